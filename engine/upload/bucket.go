package upload

// The bucket side of the uploader: minio-go clients, uploads confirmed by
// size and CRC32C, the connection test, presigned addresses, and what the
// service answered in plain words.

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/onair-studio/onair/engine/livestream"
)

// put uploads the file (minio-go adds a CRC32C to each request, which the
// service checks) and confirms the copy: the same size and the same
// CRC32C as the file here — the service's own for an object sent in one
// piece, else computed from the object read back (a multipart object's
// checksum is of its parts).
func (u *Uploader) put(ctx context.Context, set livestream.StorageSettings, key, path string) error {
	c, err := u.client(set)
	if err != nil {
		return err
	}
	sum, size, err := fileCRC(path)
	if err != nil {
		return localError{err}
	}
	u.mu.Lock()
	u.current = filepath.Base(path)
	u.mu.Unlock()
	u.sent.Store(0)
	u.total.Store(size)
	defer func() {
		u.mu.Lock()
		u.current = ""
		u.mu.Unlock()
	}()
	_, err = c.FPutObject(ctx, set.Bucket, key, path, minio.PutObjectOptions{ContentType: "video/mp4", Progress: progress{&u.sent}})
	if err != nil {
		return explain(set, err)
	}
	info, err := c.StatObject(ctx, set.Bucket, key, minio.StatObjectOptions{Checksum: true})
	if err != nil {
		return explain(set, err)
	}
	if info.Size != size {
		return fmt.Errorf("the copy in the bucket has %d bytes, the file here %d: it is uploaded again", info.Size, size)
	}
	got := info.ChecksumCRC32C
	if got == "" || strings.Contains(got, "-") { // none kept, or per part only: read it back
		if got, err = objectCRC(ctx, c, set.Bucket, key); err != nil {
			return explain(set, err)
		}
	}
	if got != sum {
		return fmt.Errorf("the copy in the bucket has CRC32C %s, the file here %s: it is uploaded again", got, sum)
	}
	return nil
}

// localError is a failure to read the recording here, not the service's:
// trying again at once would not help, and must not hold up the others.
type localError struct{ error }

func (e localError) Unwrap() error { return e.error }

// progress counts the bytes minio-go has sent (it reads as it sends).
type progress struct{ n *atomic.Int64 }

func (p progress) Read(b []byte) (int, error) {
	p.n.Add(int64(len(b)))
	return len(b), nil
}

// Progress tells how far the upload of a recording is: ok is false when
// it is not being uploaded now.
func (u *Uploader) Progress(publicID string) (sent, total int64, ok bool) {
	u.mu.Lock()
	cur := u.current
	u.mu.Unlock()
	if cur != publicID+".mp4" {
		return 0, 0, false
	}
	return min(u.sent.Load(), u.total.Load()), u.total.Load(), true
}

// fileCRC is a file's CRC32C (base64, as S3 writes it) and size.
func fileCRC(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("reading the recording to upload: %w", err)
	}
	defer f.Close()
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading the recording to upload: %w", err)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), n, nil
}

// objectCRC reads an object back and returns its CRC32C.
func objectCRC(ctx context.Context, c *minio.Client, bucket, key string) (string, error) {
	obj, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", err
	}
	defer func() { _ = obj.Close() }()
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	if _, err := io.Copy(h, obj); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// client is the minio-go client of these settings, made once.
func (u *Uploader) client(set livestream.StorageSettings) (*minio.Client, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if c, ok := u.clients[set]; ok {
		return c, nil
	}
	c, err := newClient(set)
	if err != nil {
		return nil, err
	}
	u.clients[set] = c
	return c, nil
}

func newClient(set livestream.StorageSettings) (*minio.Client, error) {
	e, err := url.Parse(set.Endpoint)
	if err != nil || e.Host == "" {
		return nil, fmt.Errorf("the object store's endpoint %q is not an address such as https://s3.eu-west-1.amazonaws.com", set.Endpoint)
	}
	lookup := minio.BucketLookupAuto
	if set.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(e.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(set.AccessKeyID, set.SecretAccessKey, ""),
		Secure:       e.Scheme == "https",
		Region:       set.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("setting up the object store client for %s: %w", set.Endpoint, err)
	}
	return c, nil
}

// Check tries the settings as an upload would: it writes a small object
// under the prefix and deletes it, saying in plain words what failed.
func (u *Uploader) Check(ctx context.Context, set livestream.StorageSettings) error {
	c, err := newClient(set)
	if err != nil {
		return err
	}
	key := set.Prefix + ".onair-connection-test"
	body := "OnAir Studio checks that it may write here; this object is deleted at once.\n"
	if _, err := c.PutObject(ctx, set.Bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{ContentType: "text/plain"}); err != nil {
		return explain(set, err)
	}
	if err := c.RemoveObject(ctx, set.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("writing worked, deleting the test object %s did not: %w", key, explain(set, err))
	}
	return nil
}

// URL is a presigned download address of an asset's copy in the bucket,
// working for PresignFor.
func (u *Uploader) URL(ctx context.Context, a livestream.Asset) (string, error) {
	if a.Remote == nil || a.Remote.Status != livestream.RemoteUploaded {
		return "", fmt.Errorf("%w: asset %s has no copy in the object store", livestream.ErrNotFound, a.PublicID)
	}
	set := u.Settings()
	if set.Endpoint != a.Remote.Endpoint || set.Bucket != a.Remote.Bucket {
		return "", fmt.Errorf("%w: asset %s is in the bucket %s at %s, which the settings no longer name", livestream.ErrConflict, a.PublicID, a.Remote.Bucket, a.Remote.Endpoint)
	}
	c, err := u.client(set)
	if err != nil {
		return "", err
	}
	params := url.Values{"response-content-disposition": {`inline; filename="` + a.PublicID + `.mp4"`}}
	p, err := c.PresignedGetObject(ctx, a.Remote.Bucket, a.Remote.Key, PresignFor, params)
	if err != nil {
		return "", explain(set, err)
	}
	return p.String(), nil
}

// removeRemote deletes a deleted asset's copy, if the settings still name
// its bucket.
func (u *Uploader) removeRemote(r livestream.AssetRemote) {
	set := u.Settings()
	if set.Endpoint != r.Endpoint || set.Bucket != r.Bucket {
		return
	}
	c, err := u.client(set)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = explain(set, c.RemoveObject(ctx, r.Bucket, r.Key, minio.RemoveObjectOptions{}))
		cancel()
	}
	if err != nil {
		u.Logger.Warn("removing a deleted recording from the object store", "bucket", r.Bucket, "key", r.Key, "error", err)
	}
}

// explain says in plain words what the object store answered, naming
// the service's error code.
func explain(set livestream.StorageSettings, err error) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case resp.Code == minio.NoSuchBucket:
		return fmt.Errorf("the bucket %q does not exist at %s (NoSuchBucket): create it there, or correct the name", set.Bucket, set.Endpoint)
	case resp.Code == minio.AccessDenied, resp.Code == minio.InvalidAccessKeyID, resp.Code == minio.SignatureDoesNotMatch:
		return fmt.Errorf("%s refused the access key (%s): check the key ID and its secret, and that they may write to %q", set.Endpoint, resp.Code, set.Bucket)
	case resp.Code != "":
		return fmt.Errorf("%s answered %d %s: %s", set.Endpoint, resp.StatusCode, resp.Code, resp.Message)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("the name %s does not resolve (DNS): check the service address", dnsErr.Name)
	case errors.As(err, &certErr):
		return fmt.Errorf("the certificate of %s is not trusted (TLS): %w", set.Endpoint, certErr.Err)
	case errors.As(err, &recErr):
		return fmt.Errorf("%s does not speak TLS: use http:// for it, or the service's https port", set.Endpoint)
	}
	return fmt.Errorf("cannot reach the object store at %s: %w", set.Endpoint, err)
}
