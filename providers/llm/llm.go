// Package llm implements insights.LLM with github.com/sashabaranov/go-openai
// for OpenAI, Azure OpenAI and any OpenAI-compatible server (Ollama, vLLM,
// LiteLLM, OpenRouter...). It asks for structured output with a JSON schema
// and falls back to JSON mode when a server rejects that; 429 and 5xx
// answers are retried with backoff that honours Retry-After.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/tallyhq/tally/insights"
)

// Providers this package serves.
const (
	OpenAI           = "openai"
	Azure            = "azure"
	OpenAICompatible = "openai-compatible"
)

// Config selects and tunes a provider.
type Config struct {
	Provider   string
	BaseURL    string // required for azure and openai-compatible
	APIKey     string
	Model      string // Azure: the deployment name
	APIVersion string // Azure only
	Timeout    time.Duration
	MaxTokens  int
	// MaxRetries is how often a 429 or 5xx is retried (default 3).
	MaxRetries int
	// MaxBackoff caps one wait, Retry-After included (default 60s).
	MaxBackoff time.Duration
}

// Client is an insights.LLM.
type Client struct {
	cfg    Config
	client *openai.Client
	rt     *retryTransport
	// noSchema is set once the server rejected json_schema, so later calls
	// go straight to JSON mode.
	noSchema atomic.Bool
}

var _ insights.LLM = (*Client)(nil)

// New builds a client. The API key is never logged or put in errors.
func New(cfg Config) (*Client, error) {
	if cfg.Model == "" {
		return nil, errors.New("LLM model is empty (TALLY_LLM_MODEL)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 60 * time.Second
	}
	var oc openai.ClientConfig
	switch cfg.Provider {
	case OpenAI:
		oc = openai.DefaultConfig(cfg.APIKey)
		if cfg.BaseURL != "" {
			oc.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
		}
	case Azure:
		if cfg.BaseURL == "" {
			return nil, errors.New("azure needs TALLY_LLM_BASE_URL (https://RESOURCE.openai.azure.com)")
		}
		oc = openai.DefaultAzureConfig(cfg.APIKey, strings.TrimSuffix(cfg.BaseURL, "/"))
		oc.APIVersion = cfg.APIVersion
		// The model setting is the deployment name, used as is.
		oc.AzureModelMapperFunc = func(model string) string { return model }
	case OpenAICompatible:
		if cfg.BaseURL == "" {
			return nil, errors.New("openai-compatible needs TALLY_LLM_BASE_URL (for example http://localhost:11434/v1)")
		}
		oc = openai.DefaultConfig(cfg.APIKey)
		oc.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	default:
		return nil, fmt.Errorf("unknown LLM provider %q", cfg.Provider)
	}
	rt := &retryTransport{next: http.DefaultTransport, max: cfg.MaxRetries, maxWait: cfg.MaxBackoff}
	oc.HTTPClient = &http.Client{Transport: rt}
	return &Client{cfg: cfg, client: openai.NewClientWithConfig(oc), rt: rt}, nil
}

// Provider names the provider.
func (c *Client) Provider() string { return c.cfg.Provider }

// Model names the model (or Azure deployment).
func (c *Client) Model() string { return c.cfg.Model }

// Complete sends one chat completion asking for JSON that follows the
// schema; a server that rejects structured output gets the same request in
// JSON mode, with the schema in the system message instead.
func (c *Client) Complete(ctx context.Context, req insights.Completion) (*insights.CompletionResult, error) {
	schema, err := json.Marshal(req.Schema)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	res := &insights.CompletionResult{}
	if !c.noSchema.Load() {
		out, err := c.call(ctx, req.Messages, &openai.ChatCompletionResponseFormat{
			Type:       openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: req.SchemaName, Schema: json.RawMessage(schema), Strict: true},
		}, res)
		if err == nil || !rejectsSchema(err) {
			if err == nil {
				res.Mode = "json_schema"
			}
			return out, err
		}
		c.noSchema.Store(true)
	}
	msgs := append([]insights.Message(nil), req.Messages...)
	hint := "\n\nAnswer with one JSON object that validates against this JSON Schema:\n" + string(schema)
	if len(msgs) > 0 && msgs[0].Role == "system" {
		msgs[0].Content += hint
	} else {
		msgs = append([]insights.Message{{Role: "system", Content: strings.TrimSpace(hint)}}, msgs...)
	}
	out, err := c.call(ctx, msgs, &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}, res)
	if err == nil {
		res.Mode = "json_object"
	}
	return out, err
}

func (c *Client) call(ctx context.Context, msgs []insights.Message, format *openai.ChatCompletionResponseFormat, res *insights.CompletionResult) (*insights.CompletionResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var attempts atomic.Int64
	ctx = context.WithValue(ctx, attemptsKey{}, &attempts)
	req := openai.ChatCompletionRequest{Model: c.cfg.Model, ResponseFormat: format, Temperature: 0.2}
	for _, m := range msgs {
		req.Messages = append(req.Messages, openai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}
	if c.cfg.MaxTokens > 0 {
		if c.cfg.Provider == OpenAI {
			req.MaxCompletionTokens = c.cfg.MaxTokens
		} else {
			req.MaxTokens = c.cfg.MaxTokens
		}
	}
	resp, err := c.client.CreateChatCompletion(ctx, req)
	res.Attempts += int(attempts.Load())
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return res, fmt.Errorf("%s: no answer within %s (TALLY_LLM_TIMEOUT)", c.cfg.Provider, c.cfg.Timeout)
		}
		return res, fmt.Errorf("%s chat completion: %w", c.cfg.Provider, err)
	}
	res.PromptTokens += resp.Usage.PromptTokens
	res.CompletionTokens += resp.Usage.CompletionTokens
	res.Model = resp.Model
	if len(resp.Choices) == 0 {
		return res, fmt.Errorf("%s: the answer has no choices", c.cfg.Provider)
	}
	res.Content = resp.Choices[0].Message.Content
	return res, nil
}

// rejectsSchema reports a 400/422 about the response format: the server
// does not do structured output.
func rejectsSchema(err error) bool {
	var ae *openai.APIError
	if errors.As(err, &ae) && (ae.HTTPStatusCode == 400 || ae.HTTPStatusCode == 422) {
		return true
	}
	var re *openai.RequestError
	return errors.As(err, &re) && (re.HTTPStatusCode == 400 || re.HTTPStatusCode == 422)
}
