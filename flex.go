package autocall

import (
	"encoding/json"
	"fmt"
)

// flexInt reads a JSON number or a numeric string; providers send both.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" || s == `""` {
		*n = 0
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
	}
	var f json.Number = json.Number(s)
	if i, err := f.Int64(); err == nil {
		*n = flexInt(i)
		return nil
	}
	fl, err := f.Float64()
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*n = flexInt(fl)
	return nil
}

// flexString reads a JSON string, or any other value as its JSON text: ids
// arrive as strings or numbers ("campaign_id": "1" or 1). null is "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	default:
		*s = flexString(b)
	}
	return nil
}
