// Package bedrocktest speaks the Amazon Bedrock Runtime wire format from
// the server side, for tests that run code calling Bedrock (through the
// AWS SDK for Go v2, or this module's bedrock.Provider) against a
// loopback httptest server instead of AWS.
//
// It covers what Converse and ConverseStream put on the wire: the request
// path (POST /model/{modelId}/converse and /converse-stream, the model id
// escaped), JSON answers, errors (status, X-Amzn-ErrorType and a JSON
// {"message": ...} body), and the binary event stream of
// ConverseStream, framed by the SDK's own event stream encoder. It can
// also check that a request carries a valid SigV4 signature for known
// credentials.
//
//	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		req, err := bedrocktest.ReadRequest(r)
//		if err != nil {
//			bedrocktest.WriteError(w, 400, "ValidationException", err.Error())
//			return
//		}
//		if !req.Stream {
//			bedrocktest.WriteJSON(w, "req-1", bedrocktest.Answer("end_turn", bedrocktest.Usage{InputTokens: 3, OutputTokens: 1}, bedrocktest.Text("Hi")))
//			return
//		}
//		ev := bedrocktest.NewEvents(w, "req-2")
//		ev.MessageStart()
//		ev.Text(0, "Hi")
//		ev.BlockStop(0)
//		ev.MessageStop("end_turn")
//		ev.Metadata(bedrocktest.Usage{InputTokens: 3, OutputTokens: 1})
//	}))
//
// Every function here is safe for concurrent use on different responses;
// an [Events] writes to one response and is used by one goroutine.
package bedrocktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Request is one Converse or ConverseStream request as the server got it.
type Request struct {
	// Model is the model id, inference profile id or ARN, unescaped.
	Model string
	// Stream is set for ConverseStream.
	Stream bool
	// Body is the request's JSON body.
	Body map[string]any
	// Raw is the body as sent.
	Raw []byte
	// Header is the request's headers.
	Header http.Header
}

// ReadRequest reads a Converse or ConverseStream request: its path must
// be /model/{modelId}/converse or /model/{modelId}/converse-stream, with
// the model id path-escaped as the SDK sends it, and its body a JSON
// object.
func ReadRequest(r *http.Request) (Request, error) {
	req := Request{Header: r.Header}
	if r.Method != http.MethodPost {
		return req, fmt.Errorf("method %s, want POST", r.Method)
	}
	// The model id is one path segment: an ARN's "/" arrives as %2F, so
	// the escaped path is split, not the decoded one.
	p := r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(p, "/model/")
	if !ok {
		return req, fmt.Errorf("path %q does not start with /model/", p)
	}
	id, op, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(op, "/") {
		return req, fmt.Errorf("path %q is not /model/{modelId}/{operation}", p)
	}
	switch op {
	case "converse":
	case "converse-stream":
		req.Stream = true
	default:
		return req, fmt.Errorf("unknown operation %q", op)
	}
	model, err := url.PathUnescape(id)
	if err != nil {
		return req, fmt.Errorf("model id %q: %w", id, err)
	}
	req.Model = model
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return req, err
	}
	req.Raw = raw
	if err := json.Unmarshal(raw, &req.Body); err != nil {
		return req, fmt.Errorf("body is not a JSON object: %w", err)
	}
	return req, nil
}

// Block is one content block of an answer, in Converse's JSON.
type Block map[string]any

// Text is a text content block.
func Text(s string) Block { return Block{"text": s} }

// ToolUse is a tool use content block; input is JSON-encoded as it is.
func ToolUse(id, name string, input any) Block {
	return Block{"toolUse": map[string]any{"toolUseId": id, "name": name, "input": input}}
}

// Usage is the token usage an answer reports.
type Usage struct {
	InputTokens, OutputTokens int
	// CacheRead and CacheWrite are the prompt cache counts; 0 leaves
	// them out.
	CacheRead, CacheWrite int
}

func (u Usage) json() map[string]any {
	m := map[string]any{
		"inputTokens":  u.InputTokens,
		"outputTokens": u.OutputTokens,
		"totalTokens":  u.InputTokens + u.OutputTokens + u.CacheRead + u.CacheWrite,
	}
	if u.CacheRead > 0 {
		m["cacheReadInputTokens"] = u.CacheRead
	}
	if u.CacheWrite > 0 {
		m["cacheWriteInputTokens"] = u.CacheWrite
	}
	return m
}

// Answer is a Converse response body: an assistant message of blocks,
// the stop reason and the usage.
func Answer(stopReason string, u Usage, blocks ...Block) map[string]any {
	content := make([]any, len(blocks))
	for i, b := range blocks {
		content[i] = map[string]any(b)
	}
	return map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
		"stopReason": stopReason,
		"usage":      u.json(),
		"metrics":    map[string]any{"latencyMs": 1},
	}
}

// WriteJSON writes a successful Converse response with body as its JSON,
// and requestID as its x-amzn-RequestId.
func WriteJSON(w http.ResponseWriter, requestID string, body any) {
	w.Header().Set("Content-Type", "application/json")
	if requestID != "" {
		w.Header().Set("X-Amzn-Requestid", requestID)
	}
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(body)
}

// WriteError writes a Bedrock error response: status, the exception name
// in X-Amzn-ErrorType (as AWS sends it, with a documentation suffix) and
// {"message": message}.
func WriteError(w http.ResponseWriter, status int, exception, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", exception+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	w.Header().Set("X-Amzn-Requestid", "req-error")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": message})
	_, _ = w.Write(b)
}

// Events writes a ConverseStream event stream to one response.
type Events struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *eventstream.Encoder
	err error
}

// NewEvents writes the headers of a successful ConverseStream response
// (status 200, the event stream content type, requestID as
// x-amzn-RequestId) and returns a writer for its events.
func NewEvents(w http.ResponseWriter, requestID string) *Events {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	if requestID != "" {
		w.Header().Set("X-Amzn-Requestid", requestID)
	}
	w.WriteHeader(http.StatusOK)
	e := Continue(w)
	_ = e.rc.Flush()
	return e
}

// Continue returns an Events writing to a response whose headers
// NewEvents already wrote, for code that writes one stream from several
// places.
func Continue(w http.ResponseWriter) *Events {
	return &Events{w: w, rc: http.NewResponseController(w), enc: eventstream.NewEncoder()}
}

// Err returns the first error writing an event met (the client went
// away, say).
func (e *Events) Err() error { return e.err }

// Message writes one frame as it is, and flushes it.
func (e *Events) Message(m eventstream.Message) error {
	if e.err != nil {
		return e.err
	}
	if err := e.enc.Encode(e.w, m); err != nil {
		e.err = err
		return err
	}
	if err := e.rc.Flush(); err != nil {
		e.err = err
	}
	return e.err
}

// Event writes an event of the given type ("messageStart",
// "contentBlockDelta", ...) with payload JSON-encoded.
func (e *Events) Event(eventType string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	return e.Message(eventMessage(eventType, b))
}

func eventMessage(eventType string, payload []byte) eventstream.Message {
	var m eventstream.Message
	m.Headers.Set(":message-type", eventstream.StringValue("event"))
	m.Headers.Set(":event-type", eventstream.StringValue(eventType))
	m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	m.Payload = payload
	return m
}

// Exception writes an exception frame, as Bedrock sends one mid-stream:
// exceptionType is the stream's member name ("throttlingException",
// "modelStreamErrorException", "internalServerException",
// "serviceUnavailableException", "validationException").
func (e *Events) Exception(exceptionType, message string) error {
	b, _ := json.Marshal(map[string]string{"message": message})
	var m eventstream.Message
	m.Headers.Set(":message-type", eventstream.StringValue("exception"))
	m.Headers.Set(":exception-type", eventstream.StringValue(exceptionType))
	m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	m.Payload = b
	return e.Message(m)
}

// Malformed writes a well-framed contentBlockDelta event whose payload is
// not JSON, which no client can decode.
func (e *Events) Malformed() error {
	return e.Message(eventMessage("contentBlockDelta", []byte(`{"contentBlockIndex":0,"delta":{"text":`)))
}

// MessageStart writes messageStart for the assistant.
func (e *Events) MessageStart() error {
	return e.Event("messageStart", map[string]any{"role": "assistant"})
}

// Text writes a text delta of content block index.
func (e *Events) Text(index int, text string) error {
	return e.Event("contentBlockDelta", map[string]any{"contentBlockIndex": index, "delta": map[string]any{"text": text}})
}

// ToolStart writes the contentBlockStart of a tool use block.
func (e *Events) ToolStart(index int, id, name string) error {
	return e.Event("contentBlockStart", map[string]any{"contentBlockIndex": index,
		"start": map[string]any{"toolUse": map[string]any{"toolUseId": id, "name": name}}})
}

// ToolInput writes a piece of a tool use block's input JSON.
func (e *Events) ToolInput(index int, partial string) error {
	return e.Event("contentBlockDelta", map[string]any{"contentBlockIndex": index,
		"delta": map[string]any{"toolUse": map[string]any{"input": partial}}})
}

// BlockStop writes contentBlockStop.
func (e *Events) BlockStop(index int) error {
	return e.Event("contentBlockStop", map[string]any{"contentBlockIndex": index})
}

// MessageStop writes messageStop with a stop reason ("end_turn",
// "tool_use", "max_tokens", ...).
func (e *Events) MessageStop(stopReason string) error {
	return e.Event("messageStop", map[string]any{"stopReason": stopReason})
}

// Metadata writes the metadata event that follows messageStop.
func (e *Events) Metadata(u Usage) error {
	return e.Event("metadata", map[string]any{"usage": u.json(), "metrics": map[string]any{"latencyMs": 1}})
}

// CheckSignature reports whether r carries a valid SigV4 signature made
// with creds for region and Bedrock's signing name: it signs a copy of
// the request (its method, escaped path, query, the headers the
// signature names, and body) with the SDK's own signer at the request's
// X-Amz-Date, and compares the result. body is the request body, already
// read.
func CheckSignature(r *http.Request, body []byte, creds aws.Credentials, region string) error {
	auth := r.Header.Get("Authorization")
	fields, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return fmt.Errorf("authorization %q is not SigV4", redactAuth(auth))
	}
	var credential, signed string
	for _, f := range strings.Split(fields, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signed = v
		}
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return fmt.Errorf("credential scope %q is not AKID/date/region/service/aws4_request", strings.Join(scope[min(1, len(scope)):], "/"))
	}
	if scope[0] != creds.AccessKeyID {
		return errors.New("signed with another access key id")
	}
	if scope[2] != region || scope[3] != "bedrock" {
		return fmt.Errorf("signed for %s/%s, want %s/bedrock", scope[2], scope[3], region)
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date: %w", err)
	}
	if !strings.Contains(";"+signed+";", ";host;") {
		return errors.New("host is not signed")
	}
	cp, err := http.NewRequestWithContext(context.Background(), r.Method, "http://"+r.Host+r.RequestURI, bytes.NewReader(body))
	if err != nil {
		return err
	}
	cp.ContentLength = int64(len(body))
	for _, h := range strings.Split(signed, ";") {
		if h == "host" || h == "content-length" {
			continue
		}
		vs := r.Header.Values(h)
		if len(vs) == 0 {
			return fmt.Errorf("signed header %q is missing", h)
		}
		cp.Header[http.CanonicalHeaderKey(h)] = vs
	}
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(context.Background(), creds, cp, hex.EncodeToString(sum[:]), "bedrock", region, when)
	if err != nil {
		return err
	}
	if got := cp.Header.Get("Authorization"); got != auth {
		return errors.New("signature does not match the request")
	}
	return nil
}

// redactAuth keeps an Authorization value's scheme only.
func redactAuth(v string) string {
	if i := strings.IndexByte(v, ' '); i >= 0 {
		return v[:i] + " ..."
	}
	if v == "" {
		return ""
	}
	return "..."
}
