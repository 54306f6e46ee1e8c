// posix_spawn GNU extensions that Swift's Glibc module does not import. No policy here.
#ifndef CELLA_CSHIMS_SPAWN_H
#define CELLA_CSHIMS_SPAWN_H

#include <spawn.h>

/// posix_spawn_file_actions_addchdir_np: the child's working directory.
int cella_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np: closes every fd from `from` up in the child.
int cella_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// POSIX_SPAWN_SETSID: the child starts a new session.
short cella_spawn_setsid_flag(void);

#endif
