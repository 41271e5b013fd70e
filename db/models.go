package db

import (
	"time"

	"github.com/uptrace/bun"
)

// Site is a tracked website.
type Site struct {
	bun.BaseModel `bun:"table:sites"`

	ID               int64     `bun:"id,pk,autoincrement"`
	Domain           string    `bun:"domain,notnull"`
	Timezone         string    `bun:"timezone,notnull"`
	AllowedHostnames []string  `bun:"allowed_hostnames,type:json,notnull"`
	ExcludedIPs      []string  `bun:"excluded_ips,type:json,notnull"`
	ExcludedPaths    []string  `bun:"excluded_paths,type:json,notnull"`
	HonorDNT         bool      `bun:"honor_dnt,notnull"`
	RetentionDays    int       `bun:"retention_days,notnull"`
	CreatedAt        time.Time `bun:"created_at,notnull"`
	UpdatedAt        time.Time `bun:"updated_at,notnull"`
}

// Event is one pageview or custom event as stored. Times are Unix seconds.
type Event struct {
	bun.BaseModel `bun:"table:events"`

	SiteID          int64             `bun:"site_id,notnull"`
	TS              int64             `bun:"ts,notnull"`
	Name            string            `bun:"name,notnull"`
	VisitorID       int64             `bun:"visitor_id,notnull"`
	SessionID       int64             `bun:"session_id,notnull"`
	Hostname        string            `bun:"hostname,notnull"`
	Pathname        string            `bun:"pathname,notnull"`
	Referrer        string            `bun:"referrer,notnull"`
	Source          string            `bun:"source,notnull"`
	Channel         string            `bun:"channel,notnull"`
	UTMSource       string            `bun:"utm_source,notnull"`
	UTMMedium       string            `bun:"utm_medium,notnull"`
	UTMCampaign     string            `bun:"utm_campaign,notnull"`
	UTMTerm         string            `bun:"utm_term,notnull"`
	UTMContent      string            `bun:"utm_content,notnull"`
	Country         string            `bun:"country,notnull"`
	Region          string            `bun:"region,notnull"`
	City            string            `bun:"city,notnull"`
	Browser         string            `bun:"browser,notnull"`
	BrowserVersion  string            `bun:"browser_version,notnull"`
	OS              string            `bun:"os,notnull"`
	OSVersion       string            `bun:"os_version,notnull"`
	Device          string            `bun:"device,notnull"`
	Props           map[string]string `bun:"props,type:json,notnull"`
	RevenueAmount   *string           `bun:"revenue_amount"`
	RevenueCurrency string            `bun:"revenue_currency,notnull"`
	Interactive     bool              `bun:"interactive,notnull"`
}

// Session is one visit: events of one visitor without a 30-minute gap.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	SiteID         int64  `bun:"site_id,pk"`
	SessionID      int64  `bun:"session_id,pk"`
	VisitorID      int64  `bun:"visitor_id,notnull"`
	StartedAt      int64  `bun:"started_at,notnull"`
	LastSeen       int64  `bun:"last_seen,notnull"`
	EntryPage      string `bun:"entry_page,notnull"`
	ExitPage       string `bun:"exit_page,notnull"`
	Hostname       string `bun:"hostname,notnull"`
	Referrer       string `bun:"referrer,notnull"`
	Source         string `bun:"source,notnull"`
	Channel        string `bun:"channel,notnull"`
	UTMSource      string `bun:"utm_source,notnull"`
	UTMMedium      string `bun:"utm_medium,notnull"`
	UTMCampaign    string `bun:"utm_campaign,notnull"`
	UTMTerm        string `bun:"utm_term,notnull"`
	UTMContent     string `bun:"utm_content,notnull"`
	Country        string `bun:"country,notnull"`
	Region         string `bun:"region,notnull"`
	City           string `bun:"city,notnull"`
	Browser        string `bun:"browser,notnull"`
	BrowserVersion string `bun:"browser_version,notnull"`
	OS             string `bun:"os,notnull"`
	OSVersion      string `bun:"os_version,notnull"`
	Device         string `bun:"device,notnull"`
	Pageviews      int    `bun:"pageviews,notnull"`
	Events         int    `bun:"events,notnull"`
	Duration       int    `bun:"duration,notnull"`
	IsBounce       bool   `bun:"is_bounce,notnull"`
}
