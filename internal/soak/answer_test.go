package soak_test

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"
)

// Every answer a server sends carries its own proof of completeness: the
// text is "<answer id>:<n>:<n words>:END", where the answer id names the
// call and the attempt ("c17.b42": call 17, attempt 42 on server b) and
// the words follow from the id. A truncated answer loses its end mark or
// words; two answers spliced together disagree with the id at their
// start; an answer delivered to the wrong call names another call.

// maxWords bounds the word count an answer may claim, so a garbled count
// cannot make the check build a huge expected text.
const maxWords = 1000

// answerID names attempt seq on server srv of call.
func answerID(call int64, srv string, seq int64) string {
	return "c" + strconv.FormatInt(call, 10) + "." + srv + strconv.FormatInt(seq, 10)
}

// answerText is the whole answer with id and n words.
func answerText(id string, n int) string {
	var b strings.Builder
	b.WriteString(id)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(n))
	b.WriteByte(':')
	seed := idHash(id)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		x := seed ^ uint32(i+1)*2654435761
		x ^= x >> 15
		b.WriteString(strconv.FormatUint(uint64(x%1679616), 36)) // up to 4 base-36 digits
	}
	b.WriteString(":END")
	return b.String()
}

func idHash(id string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()
}

// Why an answer presented as a success is wrong.
var (
	errIncomplete = errors.New("incomplete or garbled answer")
	errForeign    = errors.New("answer of another call")
)

// checkAnswer returns nil if text is a whole answer sent for call.
func checkAnswer(text string, call int64) error {
	id, rest, _ := strings.Cut(text, ":")
	count, _, _ := strings.Cut(rest, ":")
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 || n > maxWords {
		return fmt.Errorf("%w: %q has no word count", errIncomplete, clip(text))
	}
	if want := answerText(id, n); text != want {
		return fmt.Errorf("%w: got %q, want %q", errIncomplete, clip(text), clip(want))
	}
	if !strings.HasPrefix(id, "c"+strconv.FormatInt(call, 10)+".") {
		return fmt.Errorf("%w: call %d got answer %s", errForeign, call, id)
	}
	return nil
}

// embedding is the vector a server sends for input i of the attempt
// named id: its index and two numbers that follow from the id, all exact
// in float32.
func embedding(id string, i int) []float32 {
	h := idHash(id)
	return []float32{float32(i), float32(h & 0xffff), float32(h >> 16)}
}

// checkEmbedding returns nil if resp holds one whole embedding per input,
// all from one attempt of call.
func checkEmbedding(resp goopenai.EmbeddingResponse, inputs int, call int64) error {
	id := string(resp.Model)
	if !strings.HasPrefix(id, "c"+strconv.FormatInt(call, 10)+".") {
		return fmt.Errorf("%w: call %d got embeddings %q", errForeign, call, id)
	}
	if len(resp.Data) != inputs {
		return fmt.Errorf("%w: %d embeddings for %d inputs", errIncomplete, len(resp.Data), inputs)
	}
	for i, d := range resp.Data {
		want := embedding(id, i)
		if d.Index != i || !equalVec(d.Embedding, want) {
			return fmt.Errorf("%w: embedding %d is #%d %v, want %v", errIncomplete, i, d.Index, d.Embedding, want)
		}
	}
	return nil
}

func equalVec(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// clip shortens s for a report.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:38] + "…" + s[len(s)-38:]
}

func TestCheckAnswer(t *testing.T) {
	whole := answerText(answerID(17, "b", 42), 9)
	other := answerText(answerID(17, "a", 3), 9)
	tests := []struct {
		name string
		text string
		call int64
		want error
	}{
		{"whole", whole, 17, nil},
		{"no words", answerText(answerID(17, "a", 1), 0), 17, nil},
		{"empty", "", 17, errIncomplete},
		{"cut before the end mark", strings.TrimSuffix(whole, ":END"), 17, errIncomplete},
		{"cut in a word", whole[:len(whole)-7], 17, errIncomplete},
		{"first chunk only", whole[:12], 17, errIncomplete},
		{"a word lost", strings.Replace(whole, " ", "", 1), 17, errIncomplete},
		{"two answers spliced", whole[:20] + other[20:], 17, errIncomplete},
		{"told more words than it has", strings.Replace(whole, ":9:", ":10:", 1), 17, errIncomplete},
		{"absurd count", "c17.b1:99999999:x:END", 17, errIncomplete},
		{"another call's answer", whole, 7, errForeign},
		{"a call whose number it starts with", whole, 1, errForeign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkAnswer(tt.text, tt.call)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("checkAnswer(%q, %d) = %v, want %v", tt.text, tt.call, err, tt.want)
			}
		})
	}
}

func TestCheckEmbedding(t *testing.T) {
	id := answerID(5, "c", 8)
	resp := func(n int, edit func(d []goopenai.Embedding)) goopenai.EmbeddingResponse {
		r := goopenai.EmbeddingResponse{Model: goopenai.EmbeddingModel(id)}
		for i := range n {
			r.Data = append(r.Data, goopenai.Embedding{Index: i, Embedding: embedding(id, i)})
		}
		if edit != nil {
			edit(r.Data)
		}
		return r
	}
	tests := []struct {
		name   string
		resp   goopenai.EmbeddingResponse
		inputs int
		call   int64
		want   error
	}{
		{"whole", resp(3, nil), 3, 5, nil},
		{"one missing", resp(2, nil), 3, 5, errIncomplete},
		{"out of order", resp(2, func(d []goopenai.Embedding) { d[0], d[1] = d[1], d[0] }), 2, 5, errIncomplete},
		{"a value changed", resp(2, func(d []goopenai.Embedding) { d[1].Embedding[2]++ }), 2, 5, errIncomplete},
		{"a vector cut", resp(1, func(d []goopenai.Embedding) { d[0].Embedding = d[0].Embedding[:2] }), 1, 5, errIncomplete},
		{"another call's", resp(1, nil), 1, 6, errForeign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkEmbedding(tt.resp, tt.inputs, tt.call)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("checkEmbedding = %v, want %v", err, tt.want)
			}
		})
	}
}
