// Package diskfree tells how much a user may still write on the disk
// holding a folder (recordings stop, and DVR windows shrink, before the
// disk is full).
package diskfree
