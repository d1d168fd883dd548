package livestream

import "testing"

func TestFileURL(t *testing.T) {
	for path, want := range map[string]string{
		"/home/zoë/.config/OnAirStudio/library":     "file:///home/zo%C3%AB/.config/OnAirStudio/library",
		"C:/Users/Zoë/AppData/Roaming/OnAir Studio": "file:///C:/Users/Zo%C3%AB/AppData/Roaming/OnAir%20Studio",
	} {
		if got := FileURL(path).String(); got != want {
			t.Errorf("FileURL(%q) = %s, want %s", path, got, want)
		}
	}
}
