// Package manifest is the serverless.yml front end of `lambdad deploy`: it
// reads a Serverless Framework v3 service file, resolves its variables
// (${self:}, ${env:}, ${opt:}, ${sls:}, ${param:}, ${file(...)}, ${strToBool()},
// nested, with literal fallbacks), validates it strictly against the subset of
// the v3 schema described in reference/serverless.md (unknown keys are errors
// with file, line and a "did you mean" hint; configValidationMode honoured),
// applies the AWS-only field policy (warn / reject / map, with the
// custom.platform.ignoreAwsOnly escape hatch), merges provider settings into
// functions as the Framework does, and produces one canonical [Spec].
//
// The Spec is the only thing the planner sees, so other front ends can target
// it later. Every problem in a file is reported at once: Load returns an
// error that joins one [*Problem] per finding, each with its position.
//
// Pipeline:
//
//	read YAML (yaml.Node, positions) ─► resolve variables in place
//	    ─► decode + validate (schema errors, AWS-only policy) ─► merge ─► Spec
//
// It imports only the standard library and gopkg.in/yaml.v3.
package manifest
