#!/bin/sh
# Builds a minimal root filesystem from Debian's busybox-static, offline, into DIR.
# Usage: RootFS/busybox.sh DIR
set -eu
dest=${1:?usage: RootFS/busybox.sh DIR}
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
  echo "RootFS/busybox.sh: $busybox is missing or not the static build; apt-get install -y busybox-static" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
cd "$dest"
mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys tmp root run var/tmp home
chmod 1777 tmp var/tmp
cp "$busybox" bin/busybox
for applet in $(bin/busybox --list-full); do
  [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done
cat > etc/passwd <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
PW
cat > etc/group <<'GR'
root:x:0:
daemon:x:1:
tty:x:5:
users:x:100:
nogroup:x:65534:
user:x:1000:
GR
echo "cella" > etc/hostname
printf 'hosts: files\n' > etc/nsswitch.conf
printf '127.0.0.1 localhost\n::1 localhost\n' > etc/hosts
