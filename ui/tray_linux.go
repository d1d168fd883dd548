package ui

import "os"

// trayAvailable reports whether a system tray can show the studio's icon:
// on Linux the tray is reached over the session's D-Bus.
func trayAvailable() bool { return os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" }
