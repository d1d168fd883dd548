package transcode

// Encoder is an H.264 encoder FFmpeg offers and how it is run.
type Encoder struct {
	// Name is FFmpeg's name of it, e.g. libx264 or h264_nvenc.
	Name string
	// Input are options before the input (a device to open).
	Input []string
	// Filter goes before each rendition's scaling, e.g. "format=nv12,hwupload,"
	// (ending with a comma).
	Filter string
	// Options follow -c:v.
	Options []string
}

// Software is libx264, fast and without delay: what every FFmpeg has.
// Key frames come only where the source has them (no scene cuts, a long
// interval of its own), B-frames never.
func Software() Encoder {
	return Encoder{Name: "libx264", Options: []string{"-preset", "veryfast", "-tune", "zerolatency", "-bf", "0", "-sc_threshold", "0", "-g", "1000"}}
}
