// Package landlock is the Landlock restriction a launcher puts on itself
// before it execs its target: the table of Landlock's access rights (name,
// bit, the ABI and kernel that brought it: Rights, NetRights, Scopes), the
// running kernel's ABI (ABI), and a ruleset as plain bits and paths
// (Ruleset) that implements internal/seccomp's Restriction: create the
// ruleset, add its rules, set no_new_privs, landlock_restrict_self. On a
// kernel whose ABI lacks a right the ruleset handles, Downgrade says, one
// line per feature, what is not enforced there and which kernel has it.
//
// It has no policy model: package landlock (at the top of the module)
// learns rulesets from recordings and reads and writes their files.
package landlock
