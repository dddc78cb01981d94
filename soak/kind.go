package soak

import "fmt"

// Kind is a cycle kind.
type Kind uint8

const (
	Sustained Kind = iota
	Burst
	Streams
	// Capacity steps the arrival rate up until PIC misses its SLO; off by default.
	Capacity
	numKinds
)

// Kinds lists every cycle kind in the order cycles run at start.
var Kinds = [numKinds]Kind{Sustained, Burst, Streams, Capacity}

var kindNames = [numKinds]string{"sustained", "burst", "streams", "capacity"}

// String returns the kind's metric label value.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind parses a kind's name.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown cycle %q: want sustained, burst, streams or capacity", s)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) (err error) {
	*k, err = ParseKind(string(b))
	return err
}
