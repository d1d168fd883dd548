//go:build !linux

package ui

// trayAvailable reports whether a system tray can show the studio's icon;
// Windows and macOS always have one.
func trayAvailable() bool { return true }
