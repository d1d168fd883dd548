package player

import (
	"context"
	"fmt"
	"image"
	"sync"
	"sync/atomic"

	"github.com/onair-studio/onair/engine/picture"
)

// Player receives and decodes a preview and hands pictures to the window.
type Player struct {
	//
	// parameters
	//
	// Client reaches the stream's WHEP endpoint. Required.
	Client Client
	// OnFrame receives each picture to show, on the player's goroutine; it
	// must return at once (the window hands it to fyne.Do). The picture is
	// the player's: it is written again only after Shown was called for it
	// and two more pictures were handed over.
	OnFrame func(*image.RGBA)
	// Sound, when set, plays the stream's sound as well (the session asks
	// for it). A failure of the sound is told to OnSoundError, once; the
	// pictures go on.
	Sound        *Sound
	OnSoundError func(error)

	//
	// private
	//
	pending atomic.Bool
	decoded atomic.Uint64
	handed  atomic.Uint64
	skipped atomic.Uint64
}

// Counts are what a player did so far.
type Counts struct {
	// Decoded pictures, Handed to the window, and Skipped because the
	// window had not shown the previous one yet.
	Decoded, Handed, Skipped uint64
}

// Counts returns the player's counters.
func (p *Player) Counts() Counts {
	return Counts{Decoded: p.decoded.Load(), Handed: p.handed.Load(), Skipped: p.skipped.Load()}
}

// Shown tells the player the window drew the last picture it was handed:
// until then, newer pictures are decoded but not converted or handed
// over, so a busy window drops frames instead of queueing them.
func (p *Player) Shown() { p.pending.Store(false) }

// Run connects and plays until ctx ends or the session does; it returns
// why it stopped (nil when ctx ended it). Without OpenH264 it returns
// picture.ErrNoDecoder before connecting.
func (p *Player) Run(ctx context.Context) error {
	dec, err := picture.NewDecoder()
	if err != nil {
		return err
	}
	defer dec.Close()
	client := p.Client
	client.Sound = p.Sound != nil
	sess, err := client.Connect(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = sess.Close() }()
	if p.Sound != nil {
		sctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() { stop(); wg.Wait() }()
		wg.Go(func() {
			if err := p.Sound.play(sctx, sess.Sound()); err != nil && p.OnSoundError != nil {
				p.OnSoundError(err)
			}
		})
	}
	var (
		bufs [3]*image.RGBA
		next int
		pic  picture.Picture
	)
	for {
		select {
		case <-ctx.Done():
			return nil
		case au, ok := <-sess.Units():
			if !ok {
				return ErrEnded
			}
			got, err := dec.Decode(au.Data, &pic)
			if err != nil {
				return fmt.Errorf("preview: %w", err)
			}
			if !got {
				continue
			}
			p.decoded.Add(1)
			if p.pending.Load() {
				p.skipped.Add(1)
				continue
			}
			bufs[next] = picture.ToRGBA(&pic, bufs[next])
			img := bufs[next]
			next = (next + 1) % len(bufs)
			p.pending.Store(true)
			p.handed.Add(1)
			if p.OnFrame != nil {
				p.OnFrame(img)
			}
		}
	}
}
