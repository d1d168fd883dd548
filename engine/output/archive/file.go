package archive

import (
	"os"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/media/mp4frag"
)

// file is one recording being written, with its asset.
type file struct {
	*mp4frag.Writer
	asset livestream.Asset
}

func newFile(f *os.File, t media.Tracks, u *media.Unit, minFrag, maxFrag time.Duration) (*file, error) {
	w, err := mp4frag.NewWriter(f, t, u, minFrag, maxFrag)
	if err != nil {
		return nil, err
	}
	return &file{Writer: w}, nil
}

// finish ends the file (mp4frag.Writer.Finish) and brings the asset's
// figures up to date.
func (w *file) finish(failed bool) error {
	err := w.Finish(failed)
	w.fillAsset()
	return err
}

// fillAsset sets the asset's figures from what is written.
func (w *file) fillAsset() {
	in := w.Init()
	w.asset.Duration = w.Duration()
	w.asset.Bytes = w.Size()
	w.asset.Codecs = in.Codecs
	w.asset.Width, w.asset.Height = in.Width, in.Height
}
