package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// rawJSON is an already encoded response body; apiFunc writes it as is.
type rawJSON []byte

// encodeTimeline encodes a timeline with its job list written by hand: the timeline can carry thousands of
// jobs, and reflection plus encoding/json's re-compaction of Marshaler output were most of the endpoint's time.
// The output equals json.Marshal(tl).
func encodeTimeline(tl Timeline) (rawJSON, error) {
	jobs := tl.Jobs
	tl.Jobs = nil
	head, err := json.Marshal(tl)
	if err != nil {
		return nil, fmt.Errorf("encoding timeline: %w", err)
	}
	// head ends with "jobs":null}; replace that with the hand-written list
	const tail = `"jobs":null}`
	if !bytes.HasSuffix(head, []byte(tail)) {
		return nil, fmt.Errorf("encoding timeline: unexpected layout %q", head[max(0, len(head)-40):])
	}
	b := make([]byte, 0, len(head)+len(jobs)*110+16)
	b = append(b, head[:len(head)-len(tail)]...)
	b = append(b, `"jobs":[`...)
	for i, j := range jobs {
		if i > 0 {
			b = append(b, ',')
		}
		b = j.appendJSON(b)
	}
	b = append(b, `]`...)
	b = append(b, head[len(head)-len(tail)+len(`"jobs":null`):]...)
	return append(b, '\n'), nil
}

func (j TimelineJob) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, j.ID)
	b = append(b, `,"task":`...)
	b = appendJSONString(b, j.Task)
	b = append(b, `,"worker":`...)
	b = appendJSONString(b, j.Worker)
	b = append(b, `,"sector":`...)
	b = appendJSONString(b, j.Sector)
	b = append(b, `,"q":`...)
	b = strconv.AppendInt(b, j.Queued, 10)
	if j.Start != 0 {
		b = append(b, `,"s":`...)
		b = strconv.AppendInt(b, j.Start, 10)
	}
	if j.End != 0 {
		b = append(b, `,"e":`...)
		b = strconv.AppendInt(b, j.End, 10)
	}
	if j.Failed {
		b = append(b, `,"failed":true`...)
	}
	if j.Message != "" {
		b = append(b, `,"msg":`...)
		b = appendJSONString(b, j.Message)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping like encoding/json: quotes, backslashes, control
// characters, <, >, & (HTML-safe), U+2028 and U+2029; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
