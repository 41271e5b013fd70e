// Package costsrc holds the cost providers: each turns a vendor's billing
// or usage API into FOCUS rows behind costs.Source, with its column mapping
// documented on its type. Factories returns them by kind for cmd to plug
// into costs.Sources.
//
// Every HTTP provider goes through Client, which retries 429 and 5xx answers
// with exponential backoff and honours Retry-After. Credentials go only into
// request headers: never into URLs, errors or logs.
package costsrc

import "github.com/tallyhq/tally/costs"

// Factories returns the cost source kinds this build supports.
func Factories() map[string]costs.Factory {
	return map[string]costs.Factory{
		"aws":       NewAWS,
		"openai":    NewOpenAI,
		"anthropic": NewAnthropic,
		"opencost":  NewOpenCost,
	}
}
