import Glibc

/// The closure a new thread runs, passed through pthread_create's one pointer.
private final class ThreadBody {
  let body: @Sendable () -> Void
  init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// A detached thread running `body`: the stream bridges block in read(2), write(2) and waitpid(2),
/// which must never happen on an event loop.
func startThread(_ body: @escaping @Sendable () -> Void) {
  let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
  var thread = pthread_t()
  let rc = pthread_create(
    &thread, nil,
    { raw in
      Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
      return nil
    }, box)
  if rc != 0 {
    // No thread left (resource exhaustion): run inline rather than lose the work.
    Unmanaged<ThreadBody>.fromOpaque(box).takeRetainedValue().body()
    return
  }
  pthread_detach(thread)
}

/// A mutex and condition for the small shared states of the bridges.
final class Monitor: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  init() {
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(cond, nil)
  }

  deinit {
    pthread_cond_destroy(cond)
    pthread_mutex_destroy(mutex)
    cond.deallocate()
    mutex.deallocate()
  }

  func locked<T>(_ body: () throws -> T) rethrows -> T {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body()
  }

  /// Waits until signalled; only inside `locked`.
  func wait() { pthread_cond_wait(cond, mutex) }

  func broadcast() { pthread_cond_broadcast(cond) }
}
