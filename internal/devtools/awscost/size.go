// Package awscost measures what the pipeline costs to run on AWS: a meter
// that computes the DynamoDB capacity units each request consumes, by the
// published item-size rules, while the real SDK client talks to a protocol
// server, and the list prices that turn the measured units into dollars.
package awscost

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
)

// av is an attribute value in DynamoDB's JSON wire format.
type av map[string]json.RawMessage

// ItemSize is the size DynamoDB bills for an item in wire format: attribute
// names plus values, where a number takes about one byte per two significant
// digits plus one, a binary its decoded length, a boolean or null one byte,
// and a list or map three bytes plus one per element on top of its elements.
func ItemSize(item map[string]av) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v av) int {
	for typ, raw := range v {
		switch typ {
		case "S":
			var s string
			_ = json.Unmarshal(raw, &s)
			return len(s)
		case "N":
			var s string
			_ = json.Unmarshal(raw, &s)
			return numberSize(s)
		case "B":
			return binarySize(raw)
		case "BOOL", "NULL":
			return 1
		case "SS", "NS":
			var ss []string
			_ = json.Unmarshal(raw, &ss)
			size := func(s string) int { return len(s) }
			if typ == "NS" {
				size = numberSize
			}
			n := 0
			for _, s := range ss {
				n += size(s)
			}
			return n
		case "BS":
			var bs []json.RawMessage
			_ = json.Unmarshal(raw, &bs)
			n := 0
			for _, b := range bs {
				n += binarySize(b)
			}
			return n
		case "L":
			var l []av
			_ = json.Unmarshal(raw, &l)
			n := 3
			for _, e := range l {
				n += 1 + valueSize(e)
			}
			return n
		case "M":
			var m map[string]av
			_ = json.Unmarshal(raw, &m)
			n := 3
			for k, e := range m {
				n += 1 + len(k) + valueSize(e)
			}
			return n
		}
	}
	return 0
}

func binarySize(raw json.RawMessage) int {
	var s string
	_ = json.Unmarshal(raw, &s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return len(s)
	}
	return len(b)
}

func numberSize(s string) int {
	s = strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	digits := strings.Trim(strings.Replace(s, ".", "", 1), "0")
	return int(math.Ceil(float64(len(digits))/2)) + 1
}

// writeUnits is the write request units of one item write of size bytes.
func writeUnits(size int) float64 { return math.Max(1, math.Ceil(float64(size)/1024)) }

// readUnits is the read request units of reading size bytes strongly
// consistently (halve for eventually consistent reads).
func readUnits(size int) float64 { return math.Max(1, math.Ceil(float64(size)/4096)) }
