// Package control is lambdad's function lifecycle: it validates Lambda API
// requests against the model's constraints and AWS's limits, creates,
// updates, lists and deletes functions in the store, and drives function
// state:
//
//	CreateFunction            -> State=Pending (StateReasonCode=Creating)
//	  provisioning ok         -> State=Active, LastUpdateStatus=Successful
//	  provisioning failed     -> State=Failed, LastUpdateStatus=Failed (reason set)
//	Update{Code,Configuration}-> LastUpdateStatus=InProgress (reason "Creating")
//	  ok                      -> LastUpdateStatus=Successful (State=Active)
//	  failed                  -> LastUpdateStatus=Failed, State=Failed
//
// Every transition writes a new RevisionId with a store compare-and-swap.
// Provisioning (the CheckRuntime hook) runs in goroutines owned by the
// Service and stopped by Close; functions left Pending/InProgress by a
// previous process are finished when a Service starts.
//
// Beyond $LATEST it manages published versions (immutable snapshots,
// numbers never reused), aliases with weighted routing, layers, reserved
// and provisioned concurrency, tags, resource policies and event invoke
// configurations, and resolves invocations to an InvokeTarget
// (ResolveInvokeTarget) for the invoker.
//
// Versions published with Publish: true on create or code update start
// Pending and settle with the $LATEST provisioning that follows.
// Provisioned-concurrency settings start IN_PROGRESS; the invoker reports
// READY/FAILED with MarkProvisioned.
//
// It imports the standard library, internal/lambda, internal/store,
// internal/codezip and internal/async (for the event invoke
// configuration's type and validation).
package control
