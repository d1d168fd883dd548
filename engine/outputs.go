package engine

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/output"
)

// GetOutput returns one output of a stream.
func (s *Service) GetOutput(id, outputID string) (livestream.OutputState, error) {
	st, err := s.Get(id)
	if err != nil {
		return livestream.OutputState{}, err
	}
	for _, o := range st.Outputs {
		if o.ID == outputID {
			return o, nil
		}
	}
	return livestream.OutputState{}, fmt.Errorf("output %q of live stream %s: %w", outputID, id, livestream.ErrNotFound)
}

// CreateOutput adds an output. A stream has exactly one output of each
// singleton type, so asking for another is a conflict; other outputs may be
// added while the stream is active and start at once.
func (s *Service) CreateOutput(id string, p livestream.OutputParams) (os livestream.OutputState, err error) {
	t, err := p.ValidateCreate()
	if err != nil {
		return livestream.OutputState{}, err
	}
	err = s.mutate(id, func(e *entry) (plan, error) {
		if t.Singleton() && e.cfg.HasOutputType(t) {
			return plan{}, fmt.Errorf("%w: live stream %s already has its %s output", livestream.ErrConflict, id, t)
		}
		at := livestream.Now()
		o := livestream.NewOutput(t, id, at)
		applyOutputParams(&o, p)
		if o.URI == "" && o.Vendor != "" {
			o.URI = livestream.VendorURI(o.Vendor) // a preset fills the uri
		}
		if err := checkUniqueTarget(e.cfg.Outputs, o); err != nil {
			return plan{}, err
		}
		next := e.cfg.Clone()
		next.Outputs = append(next.Outputs, o)
		next.UpdatedAt = at
		return plan{what: "storing new output of " + id, next: &next,
			ev: livestream.Event{Type: livestream.EventStreamUpdated, StreamID: id, OutputID: o.ID, Message: "output added"},
			apply: func(e *entry, _ *livestream.Event) {
				if e.sess != nil {
					s.startOutputLocked(e.sess, o, time.Now())
					s.refreshHandlersLocked(e.sess)
				}
				os = s.outputStateLocked(e, o.ID)
			}}, nil
	})
	return os, err
}

// UpdateOutput changes an output. Outputs of types that are not live
// editable are only switched on or off while the stream is active. A
// running output that changes is restarted with its new settings (a
// recording switched off is finalised; switched on, a new file begins).
func (s *Service) UpdateOutput(id, outputID string, p livestream.OutputParams) (os livestream.OutputState, err error) {
	var closing []output.Output
	err = s.mutate(id, func(e *entry) (plan, error) {
		i := e.cfg.OutputByID(outputID)
		if i < 0 {
			return plan{}, fmt.Errorf("output %q of live stream %s: %w", outputID, id, livestream.ErrNotFound)
		}
		o := e.cfg.Outputs[i]
		if err := p.ValidateUpdate(o.Type); err != nil {
			return plan{}, err
		}
		if !o.Type.LiveEditable() && !p.OnlySwitch() && e.sess != nil {
			return plan{}, fmt.Errorf("%w: the %s output cannot change while the live stream is active (only switched on or off with enabled); idle it first", livestream.ErrConflict, o.Type)
		}
		before := o
		applyOutputParams(&o, p)
		others := append(append([]livestream.Output(nil), e.cfg.Outputs[:i]...), e.cfg.Outputs[i+1:]...)
		if err := checkUniqueTarget(others, o); err != nil {
			return plan{}, err
		}
		o.UpdatedAt = livestream.Now()
		next := e.cfg.Clone()
		next.Outputs[i] = o
		next.UpdatedAt = o.UpdatedAt
		return plan{what: fmt.Sprintf("storing output %s of %s", outputID, id), next: &next,
			ev: livestream.Event{Type: livestream.EventStreamUpdated, StreamID: id, OutputID: outputID, Message: "output changed"},
			apply: func(e *entry, _ *livestream.Event) {
				if sess := e.sess; sess != nil && needsRestart(before, o) {
					s.stopOutputLocked(sess, outputID)
					s.startOutputLocked(sess, o, time.Now())
					s.refreshHandlersLocked(sess)
					closing = sess.takeEndingLocked()
				}
				os = s.outputStateLocked(e, outputID)
			}}, nil
	})
	closeOutputs(closing)
	return os, err
}

// DeleteOutput removes an output that is not a singleton; a running one
// stops. Singleton outputs are part of every stream and cannot be removed.
func (s *Service) DeleteOutput(id, outputID string) error {
	var closing []output.Output
	err := s.mutate(id, func(e *entry) (plan, error) {
		i := e.cfg.OutputByID(outputID)
		if i < 0 {
			return plan{}, fmt.Errorf("output %q of live stream %s: %w", outputID, id, livestream.ErrNotFound)
		}
		if t := e.cfg.Outputs[i].Type; t.Singleton() {
			return plan{}, fmt.Errorf("%w: every live stream keeps its %s output; switch it off with {\"enabled\": false} instead", livestream.ErrConflict, t)
		}
		next := e.cfg.Clone()
		next.Outputs = append(next.Outputs[:i], next.Outputs[i+1:]...)
		next.UpdatedAt = livestream.Now()
		return plan{what: fmt.Sprintf("deleting output %s of %s", outputID, id), next: &next,
			ev: livestream.Event{Type: livestream.EventStreamUpdated, StreamID: id, OutputID: outputID, Message: "output removed"},
			apply: func(e *entry, _ *livestream.Event) {
				if sess := e.sess; sess != nil {
					s.stopOutputLocked(sess, outputID)
					s.refreshHandlersLocked(sess)
					closing = sess.takeEndingLocked()
				}
			}}, nil
	})
	closeOutputs(closing)
	return err
}

func (s *Service) outputStateLocked(e *entry, outputID string) livestream.OutputState {
	for _, o := range s.stateLocked(e).Outputs {
		if o.ID == outputID {
			return o
		}
	}
	return livestream.OutputState{}
}

func applyOutputParams(o *livestream.Output, p livestream.OutputParams) {
	if p.Name != nil {
		o.Name = *p.Name
	}
	if p.URI != nil {
		o.URI = *p.URI
	}
	if p.StreamKey != nil {
		o.StreamKey = *p.StreamKey
	}
	if p.Vendor != nil {
		o.Vendor = *p.Vendor
	}
	if p.PublicID != nil {
		o.PublicID = *p.PublicID
	}
	if p.Enabled != nil {
		o.Disabled = !*p.Enabled
	}
	if p.DVRWindowSec != nil {
		o.DVRWindowSec = *p.DVRWindowSec
	}
	if p.Renditions != nil {
		o.Renditions = slices.Clone(*p.Renditions)
		slices.SortFunc(o.Renditions, func(a, b livestream.Rendition) int { return b.Height - a.Height }) // tallest first
		if len(o.Renditions) == 0 {
			o.Renditions = nil
		}
	}
}

// needsRestart reports whether a running output must restart to apply a
// change: anything but its name.
func needsRestart(before, after livestream.Output) bool {
	before.Name, after.Name = "", ""
	before.UpdatedAt, after.UpdatedAt = time.Time{}, time.Time{}
	return !reflect.DeepEqual(before, after)
}

// checkUniqueTarget refuses a second output of the same type sending to
// the same uri and stream key.
func checkUniqueTarget(outputs []livestream.Output, o livestream.Output) error {
	if o.URI == "" {
		return nil
	}
	for _, x := range outputs {
		if x.Type == o.Type && x.URI == o.URI && x.StreamKey == o.StreamKey {
			return fmt.Errorf("%w: output %s already sends to this uri and stream_key", livestream.ErrConflict, x.ID)
		}
	}
	return nil
}
