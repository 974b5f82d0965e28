package soak_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/routing"
)

// The calls the soak makes: what a caller does to each besides making it,
// and how each kind of call is made and its answer checked.

// plan is what the caller does to a call besides making it.
type plan uint8

const (
	planPlain             plan = iota // take the result as it comes
	planCancelAt                      // cancel the ctx from another goroutine after c.at
	planCancelAfter                   // stream: cancel the ctx after c.k chunks
	planCloseAt                       // stream: Close from another goroutine after c.at
	planCloseAfter                    // stream: Close from another goroutine after c.k chunks, still receiving
	planCloseEarly                    // stream: Close as soon as it opens, then Recv
	planCloseOnRestart                // stream, restarts on: Close from another goroutine right after the restart signal
	planCloseReconnecting             // stream, scripted: cut after content, then silence; Close while Recv reconnects
	planRestartExhausted              // stream, scripted: every target cut after content, until none is left
	planPreCancelled                  // the ctx is cancelled before the call
	planBadHeader                     // a request header net/http refuses to send
	planForbidden                     // a subject the group does not admit
	numPlans
)

var planNames = [numPlans]string{
	"plain", "cancel-at", "cancel-after", "close-at", "close-after", "close-early",
	"close-on-restart", "close-reconnecting", "restart-exhausted", "pre-cancelled", "bad-header", "forbidden",
}

// scripts are the faults a scripted plan asks of the servers, attempt by
// attempt (the last repeats): scenarios too rare to leave to chance.
var scripts = [numPlans]string{
	planCloseReconnecting: "cut,silent",
	planRestartExhausted:  "cut",
}

// planMixes weigh the plans for each kind of call.
var planMixes = [numOps][numPlans]int{
	opChat:   {planPlain: 82, planCancelAt: 10, planPreCancelled: 2, planBadHeader: 3, planForbidden: 3},
	opStream: {planPlain: 48, planCancelAt: 10, planCancelAfter: 8, planCloseAt: 12, planCloseAfter: 6, planCloseEarly: 5, planCloseOnRestart: 5, planCloseReconnecting: 2, planRestartExhausted: 2, planBadHeader: 2, planForbidden: 2},
	opEmbed:  {planPlain: 85, planCancelAt: 12, planPreCancelled: 3},
}

func pickPlan(o op) plan {
	total := 0
	for _, w := range planMixes[o] {
		total += w
	}
	n := rand.IntN(total)
	for p, w := range planMixes[o] {
		if n < w {
			return plan(p)
		}
		n -= w
	}
	panic("unreachable")
}

// call is one call the soak makes and everything needed to judge and
// report it. The fields up to inputs never change once the call starts.
type call struct {
	id       int64
	op       op
	model    string
	plan     plan
	restart  bool
	start    time.Time
	deadline time.Duration
	at       time.Duration // when a timed plan acts
	k        int           // after how many chunks a counted plan acts
	inputs   int           // embedding inputs

	// acted and actDone are when the caller began and finished
	// cancelling or closing, as time since start plus one; 0 if it has
	// not.
	acted, actDone atomic.Int64
	end            time.Time
	tr             routing.Trace
	saw            []string // what the caller saw, for the report
	err            error    // the terminal error, nil or io.EOF for a success
	// chunks is how many chunks a stream delivered, restarts included,
	// and restarts how many restart signals it gave.
	chunks, restarts int
	flags            []flagged

	// What the Tracer hooks saw of the call; a stream's may come from
	// the goroutine that closes it.
	hookCalls, hookEnds, hookAttempts, hookAttemptEnds, hookChunks atomic.Int64
	hookOK                                                         atomic.Bool
}

// do runs the caller's act f, a cancellation or a Close, noting when it
// began and when it returned.
func (c *call) do(f func()) {
	c.acted.CompareAndSwap(0, int64(time.Since(c.start))+1)
	f()
	c.actDone.CompareAndSwap(0, int64(time.Since(c.start))+1)
}

// actedAt returns when the caller acted, if it did before the call ended.
func (c *call) actedAt() (time.Duration, bool) {
	a := c.acted.Load()
	if a == 0 || time.Duration(a-1) > c.end.Sub(c.start) {
		return 0, false
	}
	return time.Duration(a - 1), true
}

func (c *call) cancelled() bool {
	_, ok := c.actedAt()
	return ok && (c.plan == planCancelAt || c.plan == planCancelAfter || c.plan == planPreCancelled)
}

func (c *call) closed() bool {
	_, ok := c.actedAt()
	switch c.plan {
	case planCloseAt, planCloseAfter, planCloseEarly, planCloseOnRestart, planCloseReconnecting:
		return ok
	}
	return false
}

func (s *soak) worker(ctx context.Context) {
	for s.pacer.admit(ctx) {
		o := opStream
		switch n := rand.IntN(100); {
		case n < 30:
			o = opChat
		case n < 45:
			o = opEmbed
		}
		c := &call{
			id: s.nextID.Add(1), op: o, plan: pickPlan(o), restart: rand.IntN(3) == 0,
			deadline: 1500*time.Millisecond + rand.N(maxDeadline-1500*time.Millisecond),
			at:       rand.N(1200 * time.Millisecond), k: 1 + rand.IntN(8), inputs: 1 + rand.IntN(4),
		}
		switch o {
		case opEmbed:
			c.model = "soak/embed"
		default:
			c.model = chatModels[rand.IntN(len(chatModels))]
		}
		switch c.plan {
		case planCloseOnRestart, planCloseReconnecting, planRestartExhausted:
			c.restart = true
		}
		c.start = time.Now()
		s.reg.open(c.id)
		s.mu.Lock()
		s.inflight[c.id] = c
		s.plans[o][c.plan]++
		s.mu.Unlock()
		s.started.Add(1)
		switch o {
		case opChat:
			s.chat(c)
		case opEmbed:
			s.embed(c)
		case opStream:
			s.stream(c)
		}
		s.pacer.done()
		s.judge(c)
		s.mu.Lock()
		delete(s.inflight, c.id)
		s.mu.Unlock()
		s.reg.close(c.id)
		// A short pause between calls keeps the load on a shared
		// machine to what the bounds above assume.
		if s.opt.think > 0 {
			time.Sleep(rand.N(s.opt.think))
		}
	}
}

// context builds the call's ctx: deadline, subject, headers, trace.
func (s *soak) context(c *call) (context.Context, context.CancelFunc) {
	subject := "user:app"
	if c.plan == planForbidden {
		subject = "user:intruder"
	}
	h := http.Header{callHeader: {strconv.FormatInt(c.id, 10)}, sessionHeader: {strconv.Itoa(rand.IntN(sessions))}}
	if c.plan == planBadHeader {
		h.Set("X-Soak-Bad", "line\r\nbreak")
	}
	if sc := scripts[c.plan]; sc != "" {
		h.Set(scriptHeader, sc)
	}
	ctx := context.WithValue(context.Background(), callKey{}, c)
	ctx = routing.WithTrace(routing.WithHeaders(routing.WithSubject(ctx, subject), h), &c.tr)
	ctx, cancel := context.WithTimeout(ctx, c.deadline)
	if c.plan == planPreCancelled {
		c.do(cancel)
	}
	return ctx, cancel
}

// after runs f on another goroutine after d, recording the moment as the
// caller's act; the returned stop waits for f if it already started, so
// nothing outlives the call.
func (c *call) after(d time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	tm := time.AfterFunc(d, func() {
		defer close(done)
		c.do(f)
	})
	return func() {
		if !tm.Stop() {
			<-done
		}
	}
}

// flag notes a violation found while the stream may still be closed
// from another goroutine, to be reported once it cannot.
func (c *call) flag(kind, format string, args ...any) {
	c.flags = append(c.flags, flagged{kind, fmt.Sprintf(format, args...)})
}

type flagged struct{ kind, msg string }

func (c *call) note(format string, args ...any) {
	if len(c.saw) < 12 {
		c.saw = append(c.saw, fmt.Sprintf(format, args...))
	}
}

func messages(c *call) []goopenai.ChatCompletionMessage {
	return []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "soak call " + strconv.FormatInt(c.id, 10)}}
}

func (s *soak) chat(c *call) {
	ctx, cancel := s.context(c)
	defer cancel()
	stop := func() {}
	if c.plan == planCancelAt {
		stop = c.after(c.at, cancel)
	}
	resp, err := s.client.Chat(ctx, goopenai.ChatCompletionRequest{Model: c.model, Messages: messages(c)})
	c.end = time.Now()
	stop()
	c.err = err
	if err != nil {
		return
	}
	if len(resp.Choices) != 1 {
		s.violation(vIncomplete, c, "success with %d choices", len(resp.Choices))
		return
	}
	if err := checkAnswer(resp.Choices[0].Message.Content, c.id); err != nil {
		s.violation(answerKind(err), c, "Chat succeeded with %v", err)
	}
}

func (s *soak) embed(c *call) {
	ctx, cancel := s.context(c)
	defer cancel()
	stop := func() {}
	if c.plan == planCancelAt {
		stop = c.after(c.at, cancel)
	}
	input := make([]string, c.inputs)
	for i := range input {
		input[i] = "soak input " + strconv.Itoa(i)
	}
	resp, err := s.client.Embed(ctx, goopenai.EmbeddingRequest{Model: goopenai.EmbeddingModel(c.model), Input: input})
	c.end = time.Now()
	stop()
	c.err = err
	if err != nil {
		return
	}
	if err := checkEmbedding(resp, c.inputs, c.id); err != nil {
		s.violation(answerKind(err), c, "Embed succeeded with %v", err)
	}
}

func answerKind(err error) string {
	if errors.Is(err, errForeign) {
		return vForeign
	}
	return vIncomplete
}

func (s *soak) stream(c *call) {
	ctx, cancel := s.context(c)
	defer cancel()
	var stops []func()
	stopAll := func() {
		for _, stop := range stops {
			stop()
		}
		stops = nil
	}
	defer stopAll()
	if c.plan == planCancelAt {
		stops = append(stops, c.after(c.at, cancel))
	}
	st, err := s.client.ChatStream(ctx, goopenai.ChatCompletionRequest{Model: c.model, Messages: messages(c)}, routing.RestartOnInterrupt(c.restart))
	if err != nil {
		c.end = time.Now()
		c.err = err
		c.note("ChatStream: %v", err)
		return
	}
	// Closes from other goroutines keep their errors for the reader to
	// report once it has waited for them.
	var closeErrs [4]error
	closers := 0
	closeFrom := func(d time.Duration) {
		if closers == len(closeErrs) {
			return
		}
		i := closers
		closers++
		stops = append(stops, c.after(d, func() { closeErrs[i] = st.Close() }))
	}
	switch c.plan {
	case planCloseAt:
		closeFrom(c.at)
	case planCloseEarly:
		var err error
		c.do(func() { err = st.Close() })
		if err != nil {
			c.flag(vClose, "Close: %v", err)
		}
	}
	var text strings.Builder
	var restartErrs []error
	chunks, restarts := 0, 0
	content := 0 // chunks with content or a finish reason since the last restart
recv:
	for {
		ch, err := st.Recv()
		switch {
		case err == nil:
			chunks++
			for _, choice := range ch.Choices {
				text.WriteString(choice.Delta.Content)
			}
			if len(ch.Choices) > 0 && (ch.Choices[0].Delta.Content != "" || ch.Choices[0].FinishReason != "") {
				content++
			}
			switch {
			case chunks > 10000:
				c.flag(vEndless, "more than 10000 chunks")
				c.err = errors.New("soak: endless stream")
				break recv
			case c.plan == planCancelAfter && chunks == c.k:
				c.do(cancel)
			case c.plan == planCloseAfter && chunks == c.k:
				closeFrom(0)
			}
		case errors.Is(err, routing.ErrStreamRestarted):
			restarts++
			s.restarts.Add(1)
			c.note("restart %d after %q: %v", restarts, clip(text.String()), err)
			if !c.restart {
				c.flag(vRestart, "restart signal on a stream that did not opt in: %v", err)
			}
			var se *routing.StreamError
			if !errors.As(err, &se) {
				c.flag(vUntyped, "restart signal %v (%T) is not a *routing.StreamError", err, err)
			} else if se.Delivered != text.String() || se.Chunks != content {
				c.flag(vDelivered, "restart signal says %d chunks, %q, were delivered; the caller got %d, %q",
					se.Chunks, clip(se.Delivered), content, clip(text.String()))
			}
			restartErrs = append(restartErrs, err)
			text.Reset()
			content = 0
			if restarts > 8 {
				c.flag(vEndless, "more than 8 restarts")
				c.err = err
				break recv
			}
			if (c.plan == planCloseOnRestart || c.plan == planCloseReconnecting) && restarts == 1 {
				closeFrom(rand.N(20 * time.Millisecond))
			}
		default:
			c.err = err
			break recv
		}
	}
	c.end = time.Now()
	c.chunks, c.restarts = chunks, restarts
	// Only now, with every goroutine that may Close the stream done, may
	// the call's trace be read for a report.
	stopAll()
	for _, f := range c.flags {
		s.violation(f.kind, c, "%s", f.msg)
	}
	for _, err := range restartErrs {
		s.checkError(c, err)
	}
	for _, err := range closeErrs {
		if err != nil {
			s.violation(vClose, c, "Close from another goroutine: %v", err)
		}
	}
	if c.err == io.EOF {
		c.note("io.EOF after %d chunks, %d restarts", chunks, restarts)
		if err := checkAnswer(text.String(), c.id); err != nil {
			s.violation(answerKind(err), c, "stream reached io.EOF with %v", err)
		}
	} else {
		c.note("ended after %d chunks, %d restarts, holding %q: %v", chunks, restarts, clip(text.String()), c.err)
		var se *routing.StreamError
		if errors.As(c.err, &se) && (se.Delivered != text.String() || se.Chunks != content) {
			s.violation(vDelivered, c, "the stream error says %d chunks, %q, were delivered; the caller got %d, %q",
				se.Chunks, clip(se.Delivered), content, clip(text.String()))
		}
	}
	// An ended stream stays ended; once closed, even after its end, it
	// says so.
	closedLate := c.acted.Load() != 0 && c.plan != planCancelAt && c.plan != planCancelAfter
	if _, again := st.Recv(); again == nil || (c.err == io.EOF) != (again == io.EOF) && !(closedLate && errors.Is(again, routing.ErrStreamClosed)) {
		s.violation(vSticky, c, "Recv after the end (%v) returned %v", c.err, again)
	}
	if err := st.Close(); err != nil {
		s.violation(vClose, c, "Close: %v", err)
	}
	if err := st.Close(); err != nil {
		s.violation(vClose, c, "second Close: %v", err)
	}
}
