package api_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAWSCLIVersionsAliasesLayers walks the developer guide's flow with the
// real AWS CLI: publish a layer, use it, publish versions, point an alias
// with a 10% canary, reserve concurrency.
func TestAWSCLIVersionsAliasesLayers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the AWS CLI many times")
	}
	s := startServer(t, t.TempDir(), nil)
	aws := newAWSCLI(t, s)
	dir := t.TempDir()
	fnZip, layerZip := filepath.Join(dir, "fn.zip"), filepath.Join(dir, "layer.zip")
	if err := os.WriteFile(fnZip, handlerZip(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(layerZip, makeZip(t, zfile{name: "python/dep.py", body: "V = 1\n"}), 0o644); err != nil {
		t.Fatal(err)
	}

	var layer map[string]any
	aws.json(&layer, "publish-layer-version", "--layer-name", "deps", "--zip-file", "fileb://"+layerZip,
		"--compatible-runtimes", "python3.12", "--compatible-architectures", "x86_64")
	if layer["LayerVersionArn"] != layerPrefix+"deps:1" || layer["Version"] != float64(1) {
		t.Fatalf("publish-layer-version = %v", layer)
	}
	var layers struct{ Layers []map[string]any }
	aws.json(&layers, "list-layers", "--compatible-runtime", "python3.12")
	if len(layers.Layers) != 1 || layers.Layers[0]["LayerName"] != "deps" {
		t.Fatalf("list-layers = %+v", layers)
	}
	var lv struct{ LayerVersions []map[string]any }
	aws.json(&lv, "list-layer-versions", "--layer-name", "deps")
	if len(lv.LayerVersions) != 1 {
		t.Fatalf("list-layer-versions = %+v", lv)
	}

	var cfg map[string]any
	aws.json(&cfg, "create-function", "--function-name", "cli-ver", "--runtime", "python3.12", "--role", role,
		"--handler", "handler.handler", "--zip-file", "fileb://"+fnZip, "--layers", layerPrefix+"deps:1", "--publish")
	if cfg["Version"] != "1" {
		t.Fatalf("create-function --publish = %v", cfg)
	}
	aws.json(nil, "wait", "function-active-v2", "--function-name", "cli-ver")
	aws.json(nil, "update-function-configuration", "--function-name", "cli-ver", "--description", "two")
	aws.json(nil, "wait", "function-updated-v2", "--function-name", "cli-ver")
	aws.json(&cfg, "publish-version", "--function-name", "cli-ver", "--description", "second")
	if cfg["Version"] != "2" || cfg["FunctionArn"] != arnPrefix+"cli-ver:2" {
		t.Fatalf("publish-version = %v", cfg)
	}
	var versions struct{ Versions []map[string]any }
	aws.json(&versions, "list-versions-by-function", "--function-name", "cli-ver")
	if len(versions.Versions) != 3 || versions.Versions[0]["Version"] != "$LATEST" {
		t.Fatalf("list-versions-by-function = %+v", versions)
	}

	var alias map[string]any
	aws.json(&alias, "create-alias", "--function-name", "cli-ver", "--name", "live", "--function-version", "1",
		"--routing-config", "AdditionalVersionWeights={2=0.1}")
	rc, _ := alias["RoutingConfig"].(map[string]any)
	if alias["AliasArn"] != arnPrefix+"cli-ver:live" || rc == nil {
		t.Fatalf("create-alias = %v", alias)
	}
	alias = nil // json.Unmarshal merges into a non-nil map
	aws.json(&alias, "update-alias", "--function-name", "cli-ver", "--name", "live", "--function-version", "2", "--routing-config", "AdditionalVersionWeights={}")
	if alias["FunctionVersion"] != "2" || alias["RoutingConfig"] != nil {
		t.Fatalf("update-alias = %v", alias)
	}
	var got struct{ Configuration map[string]any }
	aws.json(&got, "get-function", "--function-name", "cli-ver", "--qualifier", "live")
	if got.Configuration["FunctionArn"] != arnPrefix+"cli-ver:live" || got.Configuration["Description"] != "second" {
		t.Fatalf("get-function --qualifier live = %v", got.Configuration)
	}
	_, errOut, code := aws.run("create-alias", "--function-name", "cli-ver", "--name", "bad", "--function-version", "1",
		"--routing-config", "AdditionalVersionWeights={1=0.5}")
	if code == 0 || !strings.Contains(errOut, "(InvalidParameterValueException) when calling the CreateAlias operation") ||
		!strings.Contains(errOut, "Invalid function version 1. Function version 1 is already included in routing configuration.") {
		t.Fatalf("bad routing: exit %d, stderr %s", code, errOut)
	}

	var conc map[string]any
	aws.json(&conc, "put-function-concurrency", "--function-name", "cli-ver", "--reserved-concurrent-executions", "5")
	if conc["ReservedConcurrentExecutions"] != float64(5) {
		t.Fatalf("put-function-concurrency = %v", conc)
	}
	var acc map[string]map[string]any
	aws.json(&acc, "get-account-settings")
	if acc["AccountLimit"]["UnreservedConcurrentExecutions"] != float64(995) {
		t.Fatalf("get-account-settings = %v", acc)
	}
	aws.json(nil, "delete-alias", "--function-name", "cli-ver", "--name", "live")
	aws.json(nil, "delete-function", "--function-name", "cli-ver", "--qualifier", "1")
	aws.json(nil, "delete-layer-version", "--layer-name", "deps", "--version-number", "1")
}
