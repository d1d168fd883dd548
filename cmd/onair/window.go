package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/onair-studio/onair/ui"
)

// runWindow runs the studio with its window; closing the window stops it.
func runWindow(cfg config, log *slog.Logger, stderr io.Writer) int {
	s, err := startStudio(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "onair:", err)
		return 1
	}
	defer s.Close()
	ui.Run(ui.Info{
		RTMPURL:   s.rtmpURL,
		APIURL:    s.httpURL + "/v2/video/" + s.cloud + "/live_streams",
		APIKey:    s.apiKey,
		APISecret: s.secret,
		Version:   version,
	}, s.engine)
	return 0
}
