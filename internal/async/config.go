package async

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lambdad/lambdad/internal/lambda"
)

// Limits and defaults of the event invoke configuration (SPEC §4.1).
const (
	MinMaximumEventAge     = 60
	MaxMaximumEventAge     = 21600
	MinMaximumRetries      = 0
	MaxMaximumRetries      = 2
	DefaultMaximumEventAge = 6 * time.Hour
	DefaultMaximumRetries  = 2
	maxDestinationLen      = 350
)

var reDestination = regexp.MustCompile(`^(|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*))$`)

// EventInvokeConfig is a FunctionEventInvokeConfig with AWS's JSON field
// names. On the wire DestinationConfig is always present with both members
// ({"OnSuccess":{},"OnFailure":{}} when unset), as AWS answers [obs].
type EventInvokeConfig struct {
	FunctionArn              string             `json:"FunctionArn,omitempty"`
	MaximumRetryAttempts     *int               `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int               `json:"MaximumEventAgeInSeconds,omitempty"`
	LastModified             float64            `json:"LastModified,omitempty"` // epoch seconds, ms precision
	DestinationConfig        *DestinationConfig `json:"DestinationConfig,omitempty"`
}

// DestinationConfig holds the OnSuccess and OnFailure destinations.
type DestinationConfig struct {
	OnSuccess *Destination `json:"OnSuccess,omitempty"`
	OnFailure *Destination `json:"OnFailure,omitempty"`
}

// Destination is one destination ARN ("" = none).
type Destination struct {
	Destination string `json:"Destination,omitempty"`
}

// MarshalJSON renders the AWS response shape: DestinationConfig always
// present with both members.
func (c EventInvokeConfig) MarshalJSON() ([]byte, error) {
	type plain EventInvokeConfig
	p := plain(c)
	dc := DestinationConfig{OnSuccess: &Destination{}, OnFailure: &Destination{}}
	if c.DestinationConfig != nil {
		if c.DestinationConfig.OnSuccess != nil {
			dc.OnSuccess = c.DestinationConfig.OnSuccess
		}
		if c.DestinationConfig.OnFailure != nil {
			dc.OnFailure = c.DestinationConfig.OnFailure
		}
	}
	p.DestinationConfig = &dc
	return json.Marshal(p)
}

// Stamp sets LastModified to t as AWS's epoch-seconds number (ms precision).
func (c *EventInvokeConfig) Stamp(t time.Time) {
	c.LastModified = float64(t.UnixMilli()) / 1000
}

// Retries returns MaximumRetryAttempts or the default (2).
func (c *EventInvokeConfig) Retries() int {
	if c == nil || c.MaximumRetryAttempts == nil {
		return DefaultMaximumRetries
	}
	return *c.MaximumRetryAttempts
}

// MaxAge returns MaximumEventAgeInSeconds or the default (6 h).
func (c *EventInvokeConfig) MaxAge() time.Duration {
	if c == nil || c.MaximumEventAgeInSeconds == nil {
		return DefaultMaximumEventAge
	}
	return time.Duration(*c.MaximumEventAgeInSeconds) * time.Second
}

// OnSuccess returns the success destination ARN or "".
func (c *EventInvokeConfig) OnSuccess() string {
	if c == nil || c.DestinationConfig == nil || c.DestinationConfig.OnSuccess == nil {
		return ""
	}
	return c.DestinationConfig.OnSuccess.Destination
}

// OnFailure returns the failure destination ARN or "".
func (c *EventInvokeConfig) OnFailure() string {
	if c == nil || c.DestinationConfig == nil || c.DestinationConfig.OnFailure == nil {
		return ""
	}
	return c.DestinationConfig.OnFailure.Destination
}

// Merge returns c updated with the members set in u, as
// UpdateFunctionEventInvokeConfig (POST) merges; Put replaces instead.
func (c EventInvokeConfig) Merge(u EventInvokeConfig) EventInvokeConfig {
	if u.MaximumRetryAttempts != nil {
		c.MaximumRetryAttempts = u.MaximumRetryAttempts
	}
	if u.MaximumEventAgeInSeconds != nil {
		c.MaximumEventAgeInSeconds = u.MaximumEventAgeInSeconds
	}
	if u.DestinationConfig != nil {
		dc := DestinationConfig{}
		if c.DestinationConfig != nil {
			dc = *c.DestinationConfig
		}
		if u.DestinationConfig.OnSuccess != nil {
			dc.OnSuccess = u.DestinationConfig.OnSuccess
		}
		if u.DestinationConfig.OnFailure != nil {
			dc.OnFailure = u.DestinationConfig.OnFailure
		}
		c.DestinationConfig = &dc
	}
	return c
}

// destinationServices are the services AWS accepts as async destinations.
var destinationServices = map[string]bool{"sqs": true, "sns": true, "lambda": true, "events": true, "s3": true}

// Validate checks a Put/Update request body for function (its bare name)
// with AWS's rules and messages, in AWS's order: model constraints
// (ValidationException listing every violation), then "at least one
// setting", destination services and self-reference
// (InvalidParameterValueException). Whether a Lambda destination exists is
// checked by (*Service).ValidateEventInvokeConfig.
func (c *EventInvokeConfig) Validate(function string) error {
	var v lambda.Violations
	if n := c.MaximumRetryAttempts; n != nil {
		if *n < MinMaximumRetries {
			v.Add(strconv.Itoa(*n), "maximumRetryAttempts", lambda.ConstraintMin(MinMaximumRetries))
		} else if *n > MaxMaximumRetries {
			v.Add(strconv.Itoa(*n), "maximumRetryAttempts", lambda.ConstraintMax(MaxMaximumRetries))
		}
	}
	if n := c.MaximumEventAgeInSeconds; n != nil {
		if *n < MinMaximumEventAge {
			v.Add(strconv.Itoa(*n), "maximumEventAgeInSeconds", lambda.ConstraintMin(MinMaximumEventAge))
		} else if *n > MaxMaximumEventAge {
			v.Add(strconv.Itoa(*n), "maximumEventAgeInSeconds", lambda.ConstraintMax(MaxMaximumEventAge))
		}
	}
	for _, d := range []struct{ field, arn string }{
		{"destinationConfig.onSuccess.destination", c.OnSuccess()},
		{"destinationConfig.onFailure.destination", c.OnFailure()},
	} {
		if len(d.arn) > maxDestinationLen {
			v.Add(d.arn, d.field, lambda.ConstraintMaxLen(maxDestinationLen))
		}
		if !reDestination.MatchString(d.arn) {
			v.Add(d.arn, d.field, lambda.ConstraintPattern(PatternDestination))
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if c.MaximumRetryAttempts == nil && c.MaximumEventAgeInSeconds == nil && c.DestinationConfig == nil {
		return lambda.InvalidParameter(MsgNothingSet)
	}
	for _, arn := range []string{c.OnSuccess(), c.OnFailure()} {
		if arn == "" {
			continue
		}
		if !destinationServices[arnService(arn)] {
			return lambda.InvalidParameter(msgConfigInvalid, c.destinationString())
		}
	}
	for _, arn := range []string{c.OnSuccess(), c.OnFailure()} {
		if arnService(arn) != "lambda" {
			continue
		}
		ref, err := lambda.ParseFunctionName(arn, true)
		if err != nil {
			return lambda.InvalidParameter(msgDestInvalidFmt, arn)
		}
		if ref.Name == function {
			return lambda.InvalidParameter(MsgSelfDestination)
		}
	}
	return nil
}

// destinationString renders the config the way AWS's message does:
// DestinationConfig(onSuccess=OnSuccess(destination=X), onFailure=null).
func (c *EventInvokeConfig) destinationString() string {
	part := func(name string, d *Destination) string {
		if d == nil {
			return "null"
		}
		if d.Destination == "" {
			return name + "(destination=null)"
		}
		return name + "(destination=" + d.Destination + ")"
	}
	var s, f *Destination
	if c.DestinationConfig != nil {
		s, f = c.DestinationConfig.OnSuccess, c.DestinationConfig.OnFailure
	}
	return "DestinationConfig(onSuccess=" + part("OnSuccess", s) + ", onFailure=" + part("OnFailure", f) + ")"
}

// arnService returns the service field of an ARN ("" when s is no ARN).
func arnService(s string) string {
	parts := strings.SplitN(s, ":", 4)
	if len(parts) < 4 || parts[0] != "arn" {
		return ""
	}
	return parts[2]
}

// NoConfig is the 404 for a function+qualifier without an event invoke
// config; qualifiedARN names the qualifier ($LATEST when none was given).
func NoConfig(qualifiedARN string) *lambda.Error {
	return lambda.NotFound(fmt.Sprintf(msgNoConfigFmt, qualifiedARN))
}

// ValidateEventInvokeConfig runs c.Validate and then checks that every
// Lambda destination names a function lambdad hosts ("The destination ARN
// … is invalid." otherwise, as AWS).
func (s *Service) ValidateEventInvokeConfig(ctx context.Context, function string, c *EventInvokeConfig) error {
	if err := c.Validate(function); err != nil {
		return err
	}
	for _, arn := range []string{c.OnSuccess(), c.OnFailure()} {
		if arnService(arn) != "lambda" {
			continue
		}
		ref, err := lambda.ParseFunctionName(arn, true)
		if err != nil {
			return lambda.InvalidParameter(msgDestInvalidFmt, arn)
		}
		if _, err := s.runner.Resolve(ctx, ref.Name, ref.Qualifier); err != nil {
			var le *lambda.Error
			if errors.As(err, &le) && le.Status == 404 {
				return lambda.InvalidParameter(msgDestInvalidFmt, arn)
			}
			return fmt.Errorf("validate destination %s: %w", arn, err)
		}
	}
	return nil
}
