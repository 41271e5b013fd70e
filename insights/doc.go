// Package insights turns aggregated, non-personal summaries of traffic and
// spend into recommendations.
//
// A run builds a versioned Summary from aggregates only (TrafficSource,
// SpendSource), passes it through the privacy guard (k-anonymous folding,
// path normalization and a final scanner over the serialized payload; a
// payload that fails is never sent), asks an LLM or the built-in rules for
// recommendations, validates them against the payload, stores the run with
// its exact payload, and hands a digest to the notifiers.
//
// Outside systems sit behind small interfaces declared here (LLM, Notifier);
// their implementations live in providers/ and are plugged in from cmd.
package insights
