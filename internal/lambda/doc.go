// Package lambda holds lambdad's domain types and wire constants: function
// configuration with AWS's exact JSON field names, ARNs and name parsing,
// limits, runtime identifiers, the error kinds every other package returns,
// and the invoke request/result types shared by api and invoke.
//
// It imports only the standard library and nothing internal, so every other
// package may import it.
package lambda
