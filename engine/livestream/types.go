package livestream

import "time"

// Singleton reports whether every stream has exactly one output of type t,
// made with the stream and never deleted (hls, archive); simulcast outputs
// come and go.
func (t OutputType) Singleton() bool { return t != OutputSimulcast }

// LiveEditable reports whether an output of type t may change while its
// stream is active. Any output may be switched off and on at any time.
func (t OutputType) LiveEditable() bool { return t == OutputSimulcast }

// NewOutput makes an output of type t of stream streamID with its defaults.
func NewOutput(t OutputType, streamID string, now time.Time) Output {
	o := Output{ID: NewID(), Type: t, CreatedAt: now, UpdatedAt: now}
	switch t {
	case OutputHLS:
		o.Name = "HLS"
	case OutputArchive:
		o.Name, o.PublicID = "Archive", DefaultArchivePublicID(streamID)
	case OutputSimulcast:
		o.Name = "Simulcast"
	}
	return o
}

// DefaultOutputs are the outputs every new stream gets.
func DefaultOutputs(streamID string, now time.Time) []Output {
	return []Output{NewOutput(OutputHLS, streamID, now), NewOutput(OutputArchive, streamID, now)}
}

// OutputURI returns the uri of the stream's first output of type t, or "".
func (s *StreamState) OutputURI(t OutputType) string {
	for _, o := range s.Outputs {
		if o.Type == t {
			return o.URI
		}
	}
	return ""
}

// Output returns the stream's first output of type t.
func (s *StreamState) Output(t OutputType) (OutputState, bool) {
	for _, o := range s.Outputs {
		if o.Type == t {
			return o, true
		}
	}
	return OutputState{}, false
}
