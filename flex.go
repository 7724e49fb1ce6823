package autocall

import (
	"encoding/json"
)

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
