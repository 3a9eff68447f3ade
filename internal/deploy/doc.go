// Package deploy turns a canonical manifest.Spec into deployed functions:
// packaging (pack*.go), planning and applying.
//
// Packaging builds deterministic zips — entries sorted, fixed timestamps and
// modes — so unchanged code gives an unchanged CodeSha256 and is not
// uploaded again.
//
// Planning and applying (state.go, plan.go, diff.go, render.go, apply.go)
// take the packaged Spec to a running service through sdk/client only,
// never server internals:
//
//	ReadState ─► NewPlan ─► RenderText / RenderJSON ─► (confirm) ─► Apply
//	   │            │                                               │
//	   │ capabilities, features (advertised or probed), the          │ layers, functions,
//	   │ service's functions (tags lambdad:service/lambdad:stage),   │ function-level
//	   │ their concurrency, async config, versions, aliases,         │ settings, deletes
//	   │ the latest versions of its layers                          ▼
//	   └─────────────── exact plan: no I/O in NewPlan ─────────── progress lines
//
// Step transitions, per resource, from (live, wanted):
//
//	absent          → create   (functions: CreateFunction; layers: a version)
//	owned, same     → same     (nothing is sent, no code is uploaded)
//	owned, differs  → update   (only changed properties; code only when its
//	                            CodeSha256 differs; layers: a new version)
//	owned, arch or
//	package type    → replace  (delete, then create)
//	owned, unwanted → delete
//	not owned       → refused  (a wanted name taken), or left alone
//
// Settings the server cannot apply (event sources it does not advertise,
// function URLs, features it does not serve) refuse the whole plan before
// any change; settings without a local effect (log retention) are warnings.
//
// Besides the standard library, the package imports internal/manifest and
// sdk/client.
package deploy
