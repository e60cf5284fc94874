package codec

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Payload metadata of an encrypted payload.
const (
	// EncodingEncrypted is the encoding of a payload this codec encrypted.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that encrypted the payload.
	MetadataKeyID = "encryption-key-id"
)

const nonceSize = 12 // 96 bits, GCM's standard nonce

// Codec is a converter.PayloadCodec: Encode encrypts each payload whole (data and metadata) with
// the current key; Decode decrypts with the key the payload's metadata names and passes
// payloads without the encrypted encoding through unchanged, so that histories written before
// encryption still read.
type Codec struct {
	keys *Keys
	rand io.Reader
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns the codec of a key ring.
func New(keys *Keys) *Codec { return &Codec{keys: keys, rand: rand.Reader} }

// Keys is the codec's key ring.
func (c *Codec) Keys() *Keys { return c.keys }

// Encode encrypts payloads with the current key. A failure inside a workflow task fails the task
// (Temporal retries it), never the workflow.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.keys.Current()
	aead := c.keys.aeads[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, converter.NewWorkflowTaskFailureError(fmt.Errorf("encrypt payload: %w", err))
		}
		sealed := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
		if _, err := io.ReadFull(c.rand, sealed); err != nil {
			return nil, converter.NewWorkflowTaskFailureError(fmt.Errorf("encrypt payload: no random nonce: %w", err))
		}
		sealed = aead.Seal(sealed, sealed[:nonceSize], plain, []byte(id))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(id),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode decrypts payloads this codec encrypted and passes others through. A payload it cannot
// decrypt (a key it does not hold, altered data) is an error naming the key id and what to do;
// inside a workflow task it fails the task, so the workflow resumes once the keys are right.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		d, err := c.decrypt(p)
		if err != nil {
			return nil, converter.NewWorkflowTaskFailureError(err)
		}
		out[i] = d
	}
	return out, nil
}

func (c *Codec) decrypt(p *commonpb.Payload) (*commonpb.Payload, error) {
	idBytes, ok := p.GetMetadata()[MetadataKeyID]
	if !ok {
		return nil, fmt.Errorf("an encrypted payload carries no %s metadata: breach did not write it, or it was altered", MetadataKeyID)
	}
	id := string(idBytes)
	aead, ok := c.keys.aeads[id]
	if !ok {
		return nil, &UnknownKeyError{ID: id, Have: c.keys.IDs(), Source: c.keys.Source, Process: processName}
	}
	data := p.GetData()
	if len(data) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("decrypt payload with key %q: %d bytes is too short to be an encrypted payload: it was altered", id, len(data))
	}
	plain, err := aead.Open(nil, data[:nonceSize], data[nonceSize:], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("decrypt payload with key %q from %s: authentication failed: the payload was altered, or key %q there is not the key that encrypted it (was an id reused for a new key?)",
			id, c.keys.Source, id)
	}
	var orig commonpb.Payload
	if err := proto.Unmarshal(plain, &orig); err != nil {
		return nil, fmt.Errorf("decrypt payload with key %q: the plaintext is not a Temporal payload: %v", id, err)
	}
	return &orig, nil
}

// UnknownKeyError is a payload encrypted with a key this process does not hold.
type UnknownKeyError struct {
	// ID is the key the payload names.
	ID string
	// Have are the ids this process holds, and Source where it read them.
	Have   []string
	Source string
	// Process names the process that could not decrypt ("pid 4242 on worker-1"): the error may
	// be read elsewhere (a CLI shows why the worker fails).
	Process string
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("cannot decrypt a payload encrypted with key %q: the breach process reading it (%s) holds only %s (from %s); give every worker, CLI, ingress and codec server the same keys in %s or %s, keeping old keys after the current one when rotating; see docs/codec.md",
		e.ID, e.Process, strings.Join(e.Have, ", "), e.Source, EnvKeys, EnvKeysFile)
}

// processName is "pid N on HOST".
var processName = func() string {
	host, err := os.Hostname()
	if err != nil {
		host = "this host"
	}
	return fmt.Sprintf("pid %d on %s", os.Getpid(), host)
}()

// NewDataConverter is the default data converter with payloads encrypted by the codec of keys.
func NewDataConverter(keys *Keys) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(keys))
}

// NewFailureConverter encodes failure messages and stack traces through dc, so that an error
// quoting incident data is encrypted like the data itself. A failure whose message it cannot
// decrypt reads "encrypted failure: " and why, rather than the SDK's bare "Encoded failure".
func NewFailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return failureConverter{
		FailureConverter: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true}),
		dc:               dc,
	}
}

type failureConverter struct {
	converter.FailureConverter
	dc converter.DataConverter
}

func (f failureConverter) FailureToError(failure *failurepb.Failure) error {
	var clone *failurepb.Failure
	for i, fl := 0, failure; fl != nil; i, fl = i+1, fl.GetCause() {
		attrs := fl.GetEncodedAttributes()
		if attrs == nil {
			continue
		}
		var probe struct{}
		err := f.dc.FromPayload(attrs, &probe)
		if err == nil {
			continue
		}
		if clone == nil {
			clone = proto.Clone(failure).(*failurepb.Failure)
		}
		at := clone
		for range i {
			at = at.GetCause()
		}
		at.Message = "encrypted failure: " + err.Error()
	}
	if clone != nil {
		failure = clone
	}
	return f.FailureConverter.FailureToError(failure)
}
