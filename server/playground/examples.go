package playground

import (
	"encoding/json"
	"fmt"
)

// Example is one ready-made query from static/examples.json.
type Example struct {
	Name        string         `json:"name"`
	Capability  string         `json:"capability"`
	Description string         `json:"description,omitempty"`
	Query       string         `json:"query"`
	Variables   map[string]any `json:"variables"`
}

// Examples decodes the embedded examples, so tests can check each one
// against the schema and run it against demo data.
func Examples() ([]Example, error) {
	raw, err := static.ReadFile("static/examples.json")
	if err != nil {
		return nil, fmt.Errorf("read examples.json: %w", err)
	}
	var out []Example
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode examples.json: %w", err)
	}
	return out, nil
}
