package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// ChatStream starts one streaming chat request (Stream is set on a copy
// of req.Request; StreamOptions pass through untouched). It returns once
// the response headers have arrived; an error status is a
// [*providers.Error] as for [Provider.Chat].
//
// The returned stream reads the server-sent events itself rather than
// through go-openai's reader, which returns io.EOF both for "data: [DONE]"
// and for a connection that simply ended, and so cannot tell a complete
// answer from a truncated one. See the package documentation for what
// Recv returns.
//
// The stream is read by one goroutine at a time. Close it when done, on
// every path: Close may be called from any goroutine, also to abort a
// blocked Recv, and more than once.
func (p *Provider) ChatStream(ctx context.Context, req providers.ChatRequest) (providers.Stream, error) {
	if !p.usable() {
		return nil, errNotCreated
	}
	// One allocation holds the stream and its call state.
	s := &stream{}
	s.st.init(ctx, &req.Call)
	s.st.keepBody = true
	r := req.Request
	r.Stream = true
	// go-openai's stream reader is never used: the body is read directly,
	// and its Close would close the same body.
	_, err := p.client.CreateChatCompletionStream(&s.st, r)
	if err != nil {
		// go-openai reads an error body but never closes it.
		if s.st.body != nil {
			_ = s.st.body.Close()
		}
		return nil, translate(&s.st, err)
	}
	if s.st.body == nil {
		// Only if go-openai stopped sending through the doer.
		return nil, &providers.Error{Status: providers.StatusTransport, Message: "no response body"}
	}
	s.body = s.st.body
	s.r = bufio.NewReaderSize(s.body, 4096)
	return s, nil
}

// Limits on what the stream buffers, so a hostile or broken server cannot
// make it grow without bound.
const (
	maxEventBytes = 8 << 20  // one SSE line
	maxJunkBytes  = 64 << 10 // non-SSE lines kept to find a bare error body
	maxChoices    = 1024     // choice indexes tracked for completeness
)

var (
	doneData = []byte("[DONE]")
	utf8BOM  = []byte("\xEF\xBB\xBF")
)

// errStreamClosed is what Recv returns after Close ended the stream.
// It matches providers.ErrStreamClosed and, as before, net.ErrClosed.
var errStreamClosed = fmt.Errorf("openai: %w (%w)", providers.ErrStreamClosed, net.ErrClosed)

// Choice states for completeness tracking.
const (
	choiceUnseen uint8 = iota
	choiceOpen
	choiceDone
)

// stream is a providers.Stream over one SSE response body.
//
// Recv is used by one goroutine at a time; Close may be called from any
// goroutine, also while Recv is blocked, and is safe to call repeatedly.
type stream struct {
	st     callState
	body   io.ReadCloser
	r      *bufio.Reader
	closed atomic.Bool

	end      error // the sticky result once the stream is over
	started  bool  // past the first line (BOM check)
	errEvent bool  // the current event was announced as "event: error"
	line     []byte
	junk     []byte

	choices  []uint8 // choiceUnseen/Open/Done per choice index
	open     int     // choices seen without a finish reason
	finished bool    // some choice has finished
}

// Recv returns the next chunk.
//
// It returns io.EOF after "data: [DONE]", or when the body ends after
// every choice seen has carried a finish reason (usage chunks after that
// change nothing). A body that ends any other way is a [*providers.Error]
// with Status 502 and Code [CodeStreamTruncated]; an error event in the
// stream is a [*providers.Error] mapped as described in the package
// documentation; an event that is not a JSON object is Code
// [CodeMalformedEvent]. A done ctx ends the stream as for Chat. Once
// Recv has returned an error, it returns the same error again.
func (s *stream) Recv() (goopenai.ChatCompletionStreamResponse, error) {
	var chunk goopenai.ChatCompletionStreamResponse
	if s.end != nil {
		return chunk, s.end
	}
	if s.closed.Load() {
		s.end = errStreamClosed
		return chunk, s.end
	}
	if err := s.st.Context.Err(); err != nil {
		s.end = providers.ContextError(err)
		return chunk, s.end
	}
	for {
		line, err := s.readLine()
		if err != nil {
			s.end = s.endOfBody(line, err)
			return chunk, s.end
		}
		ok, err := s.handleLine(line, &chunk)
		if err != nil {
			s.end = err
			return goopenai.ChatCompletionStreamResponse{}, err
		}
		if ok {
			return chunk, nil
		}
	}
}

// Close closes the response body, which stops the upstream request. It is
// safe to call more than once and concurrently with Recv.
func (s *stream) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	return s.body.Close()
}

// readLine returns the next line without its line ending. On a read error
// it returns what it has of an unfinished line along with the error. The
// line is valid until the next call.
func (s *stream) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		frag, err := s.r.ReadSlice('\n')
		switch {
		case err == nil && len(s.line) == 0:
			return trimEOL(frag), nil
		case err == nil:
			s.line = append(s.line, frag...)
			return trimEOL(s.line), nil
		case len(s.line)+len(frag) > maxEventBytes:
			return nil, errEventTooLarge
		case errors.Is(err, bufio.ErrBufferFull):
			s.line = append(s.line, frag...)
		default:
			s.line = append(s.line, frag...)
			return s.line, err
		}
	}
}

var errEventTooLarge = fmt.Errorf("stream event larger than %d bytes", maxEventBytes)

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// endOfBody decides what a failed read means. partial is an unfinished
// last line, if the body stopped in the middle of one.
func (s *stream) endOfBody(partial []byte, err error) error {
	if err == errEventTooLarge {
		return &providers.Error{Status: providers.StatusTransport, Code: CodeMalformedEvent, Message: "malformed stream event", Err: err}
	}
	if s.closed.Load() {
		return errStreamClosed
	}
	if ctxErr := s.st.Context.Err(); ctxErr != nil {
		return providers.ContextError(ctxErr)
	}
	partial = bytes.TrimSpace(partial)
	// A last "data: [DONE]" without its line ending is still the end; a
	// last comment is nothing.
	if name, value := splitField(partial); string(name) == "data" && bytes.Equal(bytes.TrimSpace(value), doneData) {
		return io.EOF
	}
	if len(partial) > 0 && partial[0] == ':' {
		partial = nil
	}
	if len(partial) == 0 && s.complete() {
		// The connection ended after every choice finished: a complete
		// answer from a server that does not send [DONE]. An abrupt end
		// (reset, unexpected EOF in the chunked body) counts too: nothing
		// of the answer is missing.
		return io.EOF
	}
	if len(partial) > 0 && errors.Is(err, io.EOF) {
		if name, _ := splitField(partial); !isSSEField(name) && len(s.junk)+len(partial) < maxJunkBytes {
			s.junk = append(s.junk, partial...)
		}
	}
	if errors.Is(err, io.EOF) && len(s.junk) > 0 {
		// A body of plain JSON instead of events: an error object sent
		// with a success status.
		if e := s.junkError(); e != nil {
			return e
		}
	}
	cause := err
	if errors.Is(err, io.EOF) {
		cause = io.ErrUnexpectedEOF
	}
	msg := "stream ended before [DONE] or a finish reason"
	if len(partial) > 0 {
		msg = "stream ended in the middle of an event"
	}
	return &providers.Error{
		Status:  providers.StatusTransport,
		Code:    CodeStreamTruncated,
		Message: msg,
		Err:     s.st.redactErr(cause),
	}
}

// complete reports whether every choice seen has finished.
func (s *stream) complete() bool { return s.finished && s.open == 0 }

// splitField splits an SSE line into field name and value, dropping the
// one space that may follow the colon.
func splitField(line []byte) (name, value []byte) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return line, nil
	}
	name, value = line[:i], line[i+1:]
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	return name, value
}

// handleLine processes one line. It reports true when chunk holds a chunk
// to return, and a non-nil error when the stream is over (io.EOF for
// [DONE]).
//
// Each data line is one event, as in go-openai: OpenAI and the servers
// that copy it put each chunk on one line, and servers that forget the
// blank line between events are still read correctly. Surrounding
// whitespace is ignored. Comments (keep-alives) are skipped without limit:
// a stalled stream is bounded by ctx, not by counting.
func (s *stream) handleLine(line []byte, chunk *goopenai.ChatCompletionStreamResponse) (bool, error) {
	if !s.started {
		s.started = true
		line = bytes.TrimPrefix(line, utf8BOM)
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		s.errEvent = false // end of an event
		return false, nil
	}
	if line[0] == ':' {
		return false, nil
	}
	name, value := splitField(line)
	switch string(name) {
	case "data":
		return s.handleData(bytes.TrimSpace(value), chunk)
	case "event":
		s.errEvent = string(bytes.TrimSpace(value)) == "error"
	case "id", "retry":
	default: // !isSSEField(name)
		// Not SSE: perhaps a plain (even pretty-printed) JSON error
		// body; keep a bounded copy to look at if the body ends.
		if len(s.junk)+len(line) < maxJunkBytes {
			s.junk = append(s.junk, line...)
			s.junk = append(s.junk, '\n')
		}
	}
	return false, nil
}

// isSSEField reports whether name is a field this reader knows.
func isSSEField(name []byte) bool {
	switch string(name) {
	case "data", "event", "id", "retry":
		return true
	}
	return false
}

// event is one data payload: a chunk, or an error in one of the shapes
// OpenAI-compatible servers send: {"error": {...}} (OpenAI, llama.cpp,
// Ollama), {"error": "text"}, or a top-level error object
// {"object": "error", "message", "type", "code"} (vLLM).
type event struct {
	goopenai.ChatCompletionStreamResponse
	Error   json.RawMessage `json:"error"`
	Message json.RawMessage `json:"message"`
	Type    json.RawMessage `json:"type"`
	Code    json.RawMessage `json:"code"`
}

// errorBody is an error object's fields, each decoded leniently.
type errorBody struct {
	Message json.RawMessage `json:"message"`
	Type    json.RawMessage `json:"type"`
	Code    json.RawMessage `json:"code"`
}

func (s *stream) handleData(data []byte, chunk *goopenai.ChatCompletionStreamResponse) (bool, error) {
	if len(data) == 0 {
		return false, nil // an empty data line: a keep-alive
	}
	if bytes.Equal(data, doneData) {
		return false, io.EOF
	}
	var ev event
	if data[0] != '{' {
		if s.errEvent {
			return false, s.inbandError(errorBody{Message: quote(data)})
		}
		return false, s.malformed(errors.New("event is not a JSON object"))
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		if s.errEvent {
			return false, s.inbandError(errorBody{Message: quote(data)})
		}
		return false, s.malformed(err)
	}
	if e := s.eventError(&ev); e != nil {
		return false, e
	}
	s.track(ev.Choices)
	*chunk = ev.ChatCompletionStreamResponse
	return true, nil
}

// quote makes raw text a JSON string, for an error event that was not
// JSON.
func quote(b []byte) json.RawMessage {
	q, _ := json.Marshal(string(b))
	return q
}

// eventError returns the in-band error ev carries, or nil.
func (s *stream) eventError(ev *event) error {
	if isPresent(ev.Error) {
		var body errorBody
		switch ev.Error[0] {
		case '{':
			// Shapes that do not decode leave fields empty; the error
			// is reported regardless.
			_ = json.Unmarshal(ev.Error, &body)
		default:
			body.Message = ev.Error
		}
		return s.inbandError(body)
	}
	if ev.Object == "error" || s.errEvent {
		return s.inbandError(errorBody{Message: ev.Message, Type: ev.Type, Code: ev.Code})
	}
	return nil
}

// junkError reads non-SSE lines as a plain JSON error body.
func (s *stream) junkError() error {
	var ev event
	if err := json.Unmarshal(s.junk, &ev); err != nil {
		return nil
	}
	if isPresent(ev.Error) || ev.Object == "error" {
		return s.eventError(&ev)
	}
	return nil
}

func isPresent(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// inbandError builds the error for an error event. Errors in a stream have
// no HTTP status of their own (the response said 200), so one is chosen
// from the error's code, then its type:
//
//	rate_limit_exceeded, rate_limit_error, 429            → 429
//	overloaded, overloaded_error, server_is_overloaded,
//	service_unavailable, service_unavailable_error,
//	503, 529                                              → 503
//	server_error, internal_server_error, internal_error,
//	api_error, 500                                        → 500
//	anything else                                         → 502
//
// OpenAI's own overload event is code "server_is_overloaded", type
// "service_unavailable_error"; "overloaded" and "overloaded_error"
// (Anthropic's type, passed through by gateways) mean the same: all are an
// HTTP 503, try again elsewhere. Code, Type
// and Message are kept as sent.
func (s *stream) inbandError(body errorBody) error {
	code, typ := jsonText(body.Code), jsonText(body.Type)
	status := inbandStatus(code)
	if status == 0 {
		status = inbandStatus(typ)
	}
	if status == 0 {
		status = providers.StatusTransport
	}
	msg := jsonText(body.Message)
	if msg == "" {
		msg = "error event in stream"
	}
	return &providers.Error{
		Status:  status,
		Code:    s.st.redact(code),
		Type:    s.st.redact(typ),
		Message: s.st.redact(msg),
	}
}

func inbandStatus(s string) int {
	switch strings.ToLower(s) {
	case "rate_limit_exceeded", "rate_limit_error", "429":
		return http.StatusTooManyRequests
	case "overloaded", "overloaded_error", "server_is_overloaded",
		"service_unavailable", "service_unavailable_error", "503", "529":
		return http.StatusServiceUnavailable
	case "server_error", "internal_server_error", "internal_error", "api_error", "500":
		return http.StatusInternalServerError
	}
	return 0
}

// jsonText renders a JSON value leniently as text: a string as itself, an
// array of strings joined (as go-openai does for messages), null as "",
// anything else as its compact JSON.
func jsonText(raw json.RawMessage) string {
	if !isPresent(raw) {
		return ""
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		return strings.Join(strs, ", ")
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}

func (s *stream) malformed(err error) error {
	return &providers.Error{
		Status:  providers.StatusTransport,
		Code:    CodeMalformedEvent,
		Message: "malformed stream event",
		Err:     s.st.redactErr(err),
	}
}

// track notes which choices have started and finished.
func (s *stream) track(choices []goopenai.ChatCompletionStreamChoice) {
	for i := range choices {
		c := &choices[i]
		done := c.FinishReason != ""
		if done {
			s.finished = true
		}
		idx := c.Index
		if idx < 0 || idx >= maxChoices {
			continue
		}
		if idx >= len(s.choices) {
			s.choices = append(s.choices, make([]uint8, idx+1-len(s.choices))...)
		}
		switch st := s.choices[idx]; {
		case done && st == choiceOpen:
			s.open--
			s.choices[idx] = choiceDone
		case done && st == choiceUnseen:
			s.choices[idx] = choiceDone
		case !done && st == choiceUnseen:
			s.open++
			s.choices[idx] = choiceOpen
		}
	}
}
