// The guest agent's step before the Swift runtime starts. No API: linking the target is enough.
#ifndef CELLA_CAGENT_EARLY_H
#define CELLA_CAGENT_EARLY_H

/// Whether the early constructor mounted /proc (the agent then knows it runs as the VM's init).
int cella_agent_mounted_proc(void);

#endif
