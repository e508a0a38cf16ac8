// Package landlock is profgen's second policy kind: the Landlock ruleset
// of a program (the file hierarchies it may use with which rights, the TCP
// ports it may bind and connect to, the scopes it stays within), learned
// from the landlock section of a recording (Learn, by the rules of
// docs/landlock.md), read and written as Landlock's own configuration
// format (landlock-lsm/landlockconfig: Config, ParseConfig), judged
// access by access (Ruleset.Allows, for static replay) and turned into the
// bits a launcher applies (Ruleset.Restriction, internal/landlock).
//
// It imports recording, never trace: the recorder observes, this package
// generalises.
package landlock
