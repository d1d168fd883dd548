package livestream

import "time"

// AssetStatus is the state of a recording.
type AssetStatus string

// Asset statuses.
const (
	// AssetRecording: the archive output is writing the file.
	AssetRecording AssetStatus = "recording"
	// AssetReady: the file is complete and plays.
	AssetReady AssetStatus = "ready"
	// AssetDamaged: the file could not be repaired; Error says why.
	AssetDamaged AssetStatus = "damaged"
	// AssetProcessing: a clip is being cut from another asset.
	AssetProcessing AssetStatus = "processing"
)

// AssetClip tells what a clip was cut from.
type AssetClip struct {
	// Source is the public id of the asset cut from.
	Source string `json:"source"`
	// Start is where the clip starts in the source: the key frame at or
	// before RequestedStart. End is where it ends.
	Start          time.Duration `json:"start"`
	RequestedStart time.Duration `json:"requested_start"`
	End            time.Duration `json:"end"`
}

// Asset is one recording in the library: one session of a stream's archive.
type Asset struct {
	// PublicID names the asset and its file (PublicID + ".mp4").
	PublicID string      `json:"public_id"`
	StreamID string      `json:"live_stream_id,omitempty"`
	Status   AssetStatus `json:"status"`
	// Error tells why a damaged asset is damaged.
	Error     string        `json:"error,omitempty"`
	Started   time.Time     `json:"started_at"`
	Ended     time.Time     `json:"ended_at"`
	Duration  time.Duration `json:"duration"`
	Bytes     int64         `json:"bytes"`
	Codecs    []string      `json:"codecs,omitempty"`
	Width     int           `json:"width,omitempty"`
	Height    int           `json:"height,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	// Remote is the copy in S3-compatible storage (nil: none was made).
	Remote *AssetRemote `json:"remote,omitempty"`
	// LocalGone: the file is no longer on this computer, only in Remote.
	LocalGone bool `json:"local_gone,omitempty"`
	// Clip is set on an asset cut from another.
	Clip *AssetClip `json:"clip,omitempty"`
}

// Upload states of an asset's remote copy.
const (
	RemoteUploading = "uploading"
	RemoteUploaded  = "uploaded"
	RemoteFailed    = "failed"
)

// AssetRemote is an asset's copy in S3-compatible storage.
type AssetRemote struct {
	// Status is uploading, uploaded or failed (Error says why; it is
	// tried again).
	Status     string    `json:"status"`
	Bucket     string    `json:"bucket"`
	Key        string    `json:"key"`
	Endpoint   string    `json:"endpoint"`
	Error      string    `json:"error,omitempty"`
	Attempts   int       `json:"attempts,omitempty"`
	UploadedAt time.Time `json:"uploaded_at,omitzero"`
}

// AssetPosition is a place in the list of assets (newest first, then by
// public id).
type AssetPosition struct {
	Started  time.Time
	PublicID string
}

// Asset events.
const (
	EventAssetRecording = "asset.recording"
	EventAssetReady     = "asset.ready"
	// EventAssetProcessing: a clip is being cut (asset.ready follows).
	EventAssetProcessing = "asset.processing"
	EventAssetDeleted    = "asset.deleted"
	// EventAssetUpdated: the asset's copy in the object store changed
	// (uploading, uploaded, failed) or its local file was removed.
	EventAssetUpdated = "asset.updated"
)
