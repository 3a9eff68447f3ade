package deploy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lambdad/lambdad/internal/manifest"
	"github.com/lambdad/lambdad/sdk/client"
)

// diffFunction compares a deployed function with the wanted configuration.
// It returns the property changes (sorted by path) and, when the function
// must be deleted and created again, why. Code is compared separately.
func diffFunction(live *LiveFunction, w *desired) (diffs []Diff, replace []string) {
	c := &live.Configuration
	str := func(path, old, new string) {
		if old != new {
			diffs = append(diffs, change(path, old, new))
		}
	}
	num := func(path string, old, new int) {
		if old != new {
			diffs = append(diffs, Diff{Path: path, Kind: DiffUpdate, Old: strconv.Itoa(old), New: strconv.Itoa(new)})
		}
	}
	liveArch := "x86_64"
	if len(c.Architectures) > 0 {
		liveArch = c.Architectures[0]
	}
	if liveArch != w.Architecture {
		diffs = append(diffs, Diff{Path: "architecture", Kind: DiffUpdate, Old: liveArch, New: w.Architecture})
		replace = append(replace, fmt.Sprintf("architecture %s→%s", liveArch, w.Architecture))
	}
	if c.PackageType != "" && c.PackageType != "Zip" {
		diffs = append(diffs, Diff{Path: "packageType", Kind: DiffUpdate, Old: c.PackageType, New: "Zip"})
		replace = append(replace, fmt.Sprintf("packageType %s→Zip", c.PackageType))
	}
	str("handler", c.Handler, w.Handler)
	str("runtime", c.Runtime, w.Runtime)
	str("description", c.Description, w.Description)
	num("memorySize", c.MemorySize, w.MemorySize)
	num("timeout", c.Timeout, w.Timeout)
	liveTmp := 512
	if c.EphemeralStorage != nil && c.EphemeralStorage.Size > 0 {
		liveTmp = c.EphemeralStorage.Size
	}
	num("ephemeralStorageSize", liveTmp, w.EphemeralStorage)

	var liveEnv map[string]string
	if c.Environment != nil {
		liveEnv = c.Environment.Variables
	}
	for _, k := range unionKeys(liveEnv, w.Environment) {
		old, inOld := liveEnv[k]
		new, inNew := w.Environment[k]
		switch {
		case !inOld:
			diffs = append(diffs, Diff{Path: "environment." + k, Kind: DiffAdd, Sensitive: true})
		case !inNew:
			diffs = append(diffs, Diff{Path: "environment." + k, Kind: DiffDelete, Sensitive: true})
		case old != new:
			diffs = append(diffs, Diff{Path: "environment." + k, Kind: DiffUpdate, Sensitive: true})
		}
	}

	liveLayers := make([]string, 0, len(c.Layers))
	for _, l := range c.Layers {
		liveLayers = append(liveLayers, l.Arn)
	}
	for i := range max(len(liveLayers), len(w.Layers)) {
		var old, new string
		if i < len(liveLayers) {
			old = liveLayers[i]
		}
		if i < len(w.Layers) {
			new = w.Layers[i]
		}
		if old != new {
			diffs = append(diffs, change(fmt.Sprintf("layers[%d]", i), old, new))
		}
	}

	if old, new := optInt(live.ReservedConcurrency), optInt(w.ReservedConcurrency); old != new {
		diffs = append(diffs, change("reservedConcurrency", old, new))
	}

	var eic client.EventInvokeConfig
	if live.EventInvokeConfig != nil {
		eic = *live.EventInvokeConfig
	}
	if old, new := optInt(eic.MaximumEventAgeInSeconds), optInt(w.MaximumEventAge); old != new {
		diffs = append(diffs, change("maximumEventAge", old, new))
	}
	if old, new := optInt(eic.MaximumRetryAttempts), optInt(w.MaximumRetryAttempts); old != new {
		diffs = append(diffs, change("maximumRetryAttempts", old, new))
	}
	var onSuccess, onFailure string
	if dc := eic.DestinationConfig; dc != nil {
		if dc.OnSuccess != nil {
			onSuccess = destinationName(dc.OnSuccess.Destination)
		}
		if dc.OnFailure != nil {
			onFailure = destinationName(dc.OnFailure.Destination)
		}
	}
	if onSuccess != w.OnSuccess {
		diffs = append(diffs, change("destinations.onSuccess", onSuccess, w.OnSuccess))
	}
	if onFailure != w.OnFailure {
		diffs = append(diffs, change("destinations.onFailure", onFailure, w.OnFailure))
	}

	for _, k := range unionKeys(live.Tags, w.Tags) {
		old, inOld := live.Tags[k]
		new, inNew := w.Tags[k]
		switch {
		case !inOld:
			diffs = append(diffs, Diff{Path: "tags." + k, Kind: DiffAdd, New: new})
		case !inNew:
			diffs = append(diffs, Diff{Path: "tags." + k, Kind: DiffDelete, Old: old})
		case old != new:
			diffs = append(diffs, Diff{Path: "tags." + k, Kind: DiffUpdate, Old: old, New: new})
		}
	}
	sort.SliceStable(diffs, func(i, j int) bool { return diffs[i].Path < diffs[j].Path })
	return diffs, replace
}

// diffProvisioned compares the provisioned concurrency and the version its
// alias points at; publishing says whether this deploy publishes a new
// version (the alias then moves to it).
func diffProvisioned(live *LiveFunction, w *desired, publishing bool) ([]Diff, bool) {
	var diffs []Diff
	old, new := "", ""
	if live.ProvisionedAlias != "" {
		old = strconv.Itoa(live.ProvisionedConcurrency)
	}
	if w.ProvisionedConcurrency > 0 {
		new = strconv.Itoa(w.ProvisionedConcurrency)
	}
	if old != new {
		diffs = append(diffs, change("provisionedConcurrency", old, new))
	}
	if w.ProvisionedConcurrency > 0 {
		target := live.LatestVersion
		if publishing || target == "" {
			target = "<next-version>"
		}
		if live.ProvisionedAlias != target {
			diffs = append(diffs, change("aliases."+ProvisionedAlias, live.ProvisionedAlias, target))
		}
	} else if live.ProvisionedAlias != "" {
		diffs = append(diffs, change("aliases."+ProvisionedAlias, live.ProvisionedAlias, ""))
	}
	return diffs, len(diffs) > 0
}

// diffLayer compares the latest version of a layer with the wanted
// metadata; content is compared separately.
func diffLayer(live *client.LayerVersion, l *manifest.Layer) []Diff {
	var diffs []Diff
	str := func(path, old, new string) {
		if old != new {
			diffs = append(diffs, change(path, old, new))
		}
	}
	str("description", live.Description, l.Description)
	str("licenseInfo", live.LicenseInfo, l.LicenseInfo)
	str("compatibleRuntimes", strings.Join(live.CompatibleRuntimes, ","), strings.Join(l.CompatibleRuntimes, ","))
	str("compatibleArchitectures", strings.Join(live.CompatibleArchitectures, ","), strings.Join(l.CompatibleArchitectures, ","))
	return diffs
}

// optInt formats an optional number; "" when unset.
func optInt(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// change is the diff of a string property: set, cleared or changed.
func change(path, old, new string) Diff {
	switch {
	case old == "":
		return Diff{Path: path, Kind: DiffAdd, New: new}
	case new == "":
		return Diff{Path: path, Kind: DiffDelete, Old: old}
	}
	return Diff{Path: path, Kind: DiffUpdate, Old: old, New: new}
}

func unionKeys(a, b map[string]string) []string {
	m := make(map[string]bool, len(a)+len(b))
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return sortedKeys(m)
}

// settingPaths are the diff paths of function-level settings: changing
// only them does not change what a published version holds.
var settingPaths = []string{"tags", "reservedConcurrency", "maximumEventAge", "maximumRetryAttempts", "destinations", "provisionedConcurrency", "aliases"}

// functionChanged reports whether diffs change the function's own
// configuration (what a published version snapshots).
func functionChanged(diffs []Diff) bool {
	for _, d := range diffs {
		setting := false
		for _, p := range settingPaths {
			if changed([]Diff{d}, p) {
				setting = true
				break
			}
		}
		if !setting {
			return true
		}
	}
	return false
}

// changed reports whether a property path is among diffs.
func changed(diffs []Diff, path string) bool {
	for _, d := range diffs {
		if d.Path == path || strings.HasPrefix(d.Path, path+".") || strings.HasPrefix(d.Path, path+"[") {
			return true
		}
	}
	return false
}
