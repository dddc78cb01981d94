package config

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// BodyTemplate renders a request body with per-request values. Placeholders:
// {{seq}} (the sender's request number), {{stream}} (the stream index, -1 outside the
// streams cycle), {{timestamp}} (Unix nanoseconds), {{random}} (16 random hex digits).
type BodyTemplate struct {
	parts []templatePart
}

type templatePart struct {
	literal []byte
	value   templateValue
}

type templateValue uint8

const (
	valueNone templateValue = iota
	valueSeq
	valueStream
	valueTimestamp
	valueRandom
)

var templateValues = map[string]templateValue{"seq": valueSeq, "stream": valueStream, "timestamp": valueTimestamp, "random": valueRandom}

// ParseBodyTemplate compiles body; it is an error to use an unknown placeholder.
func ParseBodyTemplate(body []byte) (*BodyTemplate, error) {
	t := &BodyTemplate{}
	for len(body) > 0 {
		i := bytes.Index(body, []byte("{{"))
		if i < 0 {
			t.parts = append(t.parts, templatePart{literal: body})
			break
		}
		j := bytes.Index(body[i:], []byte("}}"))
		if j < 0 {
			return nil, fmt.Errorf("unclosed {{ at byte %d", i)
		}
		name := strings.TrimSpace(string(body[i+2 : i+j]))
		v, ok := templateValues[name]
		if !ok {
			return nil, fmt.Errorf("unknown placeholder {{%s}}: want {{seq}}, {{stream}}, {{timestamp}} or {{random}}", name)
		}
		t.parts = append(t.parts, templatePart{literal: body[:i], value: v})
		body = body[i+j+2:]
	}
	return t, nil
}

// TemplateState is one sender's per-request values.
type TemplateState struct {
	Seq    int64
	Stream int
	Rand   uint64 // xorshift state, not 0: cheap, and these ids need no cryptographic quality
}

// Render appends the body for the next request to dst and advances the sequence.
func (t *BodyTemplate) Render(dst []byte, s *TemplateState, nowNanos int64) []byte {
	s.Seq++
	for _, p := range t.parts {
		dst = append(dst, p.literal...)
		switch p.value {
		case valueSeq:
			dst = strconv.AppendInt(dst, s.Seq, 10)
		case valueStream:
			dst = strconv.AppendInt(dst, int64(s.Stream), 10)
		case valueTimestamp:
			dst = strconv.AppendInt(dst, nowNanos, 10)
		case valueRandom:
			s.Rand ^= s.Rand << 13
			s.Rand ^= s.Rand >> 7
			s.Rand ^= s.Rand << 17
			const hex = "0123456789abcdef"
			for i := 60; i >= 0; i -= 4 {
				dst = append(dst, hex[(s.Rand>>uint(i))&0xf])
			}
		}
	}
	return dst
}
