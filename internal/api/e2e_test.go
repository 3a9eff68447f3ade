package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdad/lambdad/internal/lambda"
)

func createInput(name, runtime string, zipb []byte) *awslambda.CreateFunctionInput {
	return &awslambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.Runtime(runtime),
		Role:         aws.String(role),
		Handler:      aws.String("handler.handler"),
		Code:         &types.FunctionCode{ZipFile: zipb},
	}
}

func waitActive(t *testing.T, s *server, name string) {
	t.Helper()
	w := awslambda.NewFunctionActiveV2Waiter(s.client, func(o *awslambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(waitCtx(t), &awslambda.GetFunctionInput{FunctionName: aws.String(name)}, 60*time.Second); err != nil {
		t.Fatalf("FunctionActiveV2 waiter(%s): %v", name, err)
	}
}

func waitUpdated(t *testing.T, s *server, name string) {
	t.Helper()
	w := awslambda.NewFunctionUpdatedV2Waiter(s.client, func(o *awslambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(waitCtx(t), &awslambda.GetFunctionInput{FunctionName: aws.String(name)}, 60*time.Second); err != nil {
		t.Fatalf("FunctionUpdatedV2 waiter(%s): %v", name, err)
	}
}

func TestE2ELifecycle(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	zipb := handlerZip(t)
	layerZip := makeZip(t, zfile{name: "python/lib.py", body: "X = 1\n"})
	if _, err := s.client.PublishLayerVersion(ctx, &awslambda.PublishLayerVersionInput{
		LayerName: aws.String("l"), Content: &types.LayerVersionContentInput{ZipFile: layerZip},
	}); err != nil {
		t.Fatalf("PublishLayerVersion: %v", err)
	}
	in := createInput("life", "python3.12", zipb)
	in.MemorySize = aws.Int32(256)
	in.Timeout = aws.Int32(5)
	in.Tags = map[string]string{"team": "a"}
	in.Environment = &types.Environment{Variables: map[string]string{"ENV_A": "a"}}
	in.Layers = []string{"arn:aws:lambda:us-east-1:000000000000:layer:l:1"}
	in.LoggingConfig = &types.LoggingConfig{LogFormat: types.LogFormatJson}
	created, err := s.client.CreateFunction(ctx, in)
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	if created.State != types.StatePending || created.StateReasonCode != types.StateReasonCodeCreating ||
		aws.ToString(created.StateReason) != "The function is being created." || created.LastUpdateStatus != "" {
		t.Fatalf("create state = %v %v %q %v", created.State, created.StateReasonCode, aws.ToString(created.StateReason), created.LastUpdateStatus)
	}
	if got, want := aws.ToString(created.FunctionArn), "arn:aws:lambda:us-east-1:000000000000:function:life"; got != want {
		t.Fatalf("FunctionArn = %s, want %s", got, want)
	}
	if aws.ToString(created.CodeSha256) != lambdaSha(zipb) || created.CodeSize != int64(len(zipb)) || aws.ToString(created.Version) != "$LATEST" {
		t.Fatalf("code fields = %s %d %s", aws.ToString(created.CodeSha256), created.CodeSize, aws.ToString(created.Version))
	}
	if created.PackageType != types.PackageTypeZip || created.EphemeralStorage == nil || aws.ToInt32(created.EphemeralStorage.Size) != 512 ||
		created.TracingConfig == nil || created.TracingConfig.Mode != types.TracingModePassThrough || len(created.Layers) != 1 ||
		created.Layers[0].CodeSize != int64(len(layerZip)) {
		t.Fatalf("defaults = %+v", created)
	}
	if lc := created.LoggingConfig; lc == nil || lc.LogFormat != types.LogFormatJson || aws.ToString(lc.LogGroup) != "/aws/lambda/life" || lc.ApplicationLogLevel != "INFO" {
		t.Fatalf("LoggingConfig = %+v", created.LoggingConfig)
	}
	waitActive(t, s, "life")

	got, err := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("life")})
	if err != nil {
		t.Fatalf("GetFunction: %v", err)
	}
	c := got.Configuration
	if c.State != types.StateActive || c.LastUpdateStatus != types.LastUpdateStatusSuccessful || c.StateReason != nil ||
		aws.ToString(c.RevisionId) == aws.ToString(created.RevisionId) {
		t.Fatalf("active configuration = %+v", c)
	}
	if aws.ToString(got.Code.RepositoryType) != "S3" || got.Tags["team"] != "a" {
		t.Fatalf("Code/Tags = %+v %v", got.Code, got.Tags)
	}
	resp, err := http.Get(aws.ToString(got.Code.Location))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, zipb) {
		t.Fatalf("download Code.Location = %d, %d bytes", resp.StatusCode, len(body))
	}

	up, err := s.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("life"), Description: aws.String("Changed-Description"), Runtime: types.RuntimePython311,
		RevisionId: c.RevisionId,
	})
	if err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}
	if up.LastUpdateStatus != types.LastUpdateStatusInProgress || up.LastUpdateStatusReasonCode != "Creating" ||
		up.State != types.StateActive || aws.ToString(up.Description) != "Changed-Description" || up.MemorySize == nil || *up.MemorySize != 256 {
		t.Fatalf("update response = %+v", up)
	}
	waitUpdated(t, s, "life")

	zip2 := makeZip(t, zfile{name: "handler.py", body: "def handler(e, c):\n    return 2\n"})
	uc, err := s.client.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("life"), ZipFile: zip2})
	if err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}
	if aws.ToString(uc.CodeSha256) != lambdaSha(zip2) || uc.LastUpdateStatus != types.LastUpdateStatusInProgress {
		t.Fatalf("UpdateFunctionCode = %+v", uc)
	}
	waitUpdated(t, s, "life")
	cfg, err := s.client.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("life")})
	if err != nil || aws.ToString(cfg.CodeSha256) != lambdaSha(zip2) || cfg.Runtime != types.RuntimePython311 || cfg.Environment.Variables["ENV_A"] != "a" {
		t.Fatalf("GetFunctionConfiguration = %+v, %v", cfg, err)
	}

	del, err := s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("life")})
	if err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	if del.StatusCode != 204 {
		t.Fatalf("DeleteFunction status = %d, want 204", del.StatusCode)
	}
	_, err = s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("life")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:life")
	var nf *types.ResourceNotFoundException
	if !errorsAs(err, &nf) || aws.ToString(nf.Type) != "User" {
		t.Fatalf("ResourceNotFoundException Type = %v", err)
	}
}

func TestE2EValidationErrors(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	zipb := handlerZip(t)
	runtimes := "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]"
	long := strings.Repeat("a", 65)
	bigEnv := strings.Repeat("x", 4096)
	tests := []struct {
		name string
		mod  func(in *awslambda.CreateFunctionInput)
		code string
		msg  string
	}{
		{"role", func(in *awslambda.CreateFunctionInput) { in.Role = aws.String("r1") }, "ValidationException",
			`1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`},
		{"runtime", func(in *awslambda.CreateFunctionInput) { in.Runtime = "non-existent-runtime" }, "InvalidParameterValueException",
			"Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: " + runtimes + " or be a valid ARN"},
		{"uppercase runtime", func(in *awslambda.CreateFunctionInput) { in.Runtime = "PYTHON3.9" }, "InvalidParameterValueException",
			"Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: " + runtimes + " or be a valid ARN"},
		{"deprecated runtime", func(in *awslambda.CreateFunctionInput) { in.Runtime = "go1.x" }, "InvalidParameterValueException",
			"The runtime parameter of go1.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."},
		{"multiple architectures", func(in *awslambda.CreateFunctionInput) { in.Architectures = []types.Architecture{"x86_64", "arm64"} }, "ValidationException",
			"1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1"},
		{"uppercase architecture", func(in *awslambda.CreateFunctionInput) { in.Architectures = []types.Architecture{"X86_64"} }, "ValidationException",
			"1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"},
		{"bad zip", func(in *awslambda.CreateFunctionInput) { in.Code.ZipFile = []byte("not a zip") }, "InvalidParameterValueException",
			"Could not unzip uploaded file. Please check your file, then try to upload again."},
		{"name too long", func(in *awslambda.CreateFunctionInput) { in.FunctionName = aws.String(long) }, "InvalidParameterValueException",
			"1 validation error detected: Value '" + long + "' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"name pattern", func(in *awslambda.CreateFunctionInput) { in.FunctionName = aws.String("invalid:function:name") }, "ValidationException",
			`1 validation error detected: Value 'invalid:function:name' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`},
		{"env too large", func(in *awslambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"LARGE_VAR": bigEnv}}
		}, "InvalidParameterValueException",
			`Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {"LARGE_VAR":"` + bigEnv + `"}`},
		{"reserved env", func(in *awslambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"AWS_REGION": "x"}}
		}, "InvalidParameterValueException",
			"Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION"},
		{"memory too small", func(in *awslambda.CreateFunctionInput) { in.MemorySize = aws.Int32(100) }, "ValidationException",
			"1 validation error detected: Value '100' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"},
		{"memory too large", func(in *awslambda.CreateFunctionInput) { in.MemorySize = aws.Int32(10241) }, "InvalidParameterValueException",
			"'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240"},
		{"timeout zero", func(in *awslambda.CreateFunctionInput) { in.Timeout = aws.Int32(0) }, "ValidationException",
			"1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"timeout too large", func(in *awslambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) }, "InvalidParameterValueException",
			"'Timeout' value failed to satisfy constraint: Member must have value less than or equal to 900"},
		{"ephemeral", func(in *awslambda.CreateFunctionInput) {
			in.EphemeralStorage = &types.EphemeralStorage{Size: aws.Int32(100)}
		}, "ValidationException",
			"1 validation error detected: Value '100' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value greater than or equal to 512"},
		{"missing handler", func(in *awslambda.CreateFunctionInput) { in.Handler = nil }, "InvalidParameterValueException",
			"Runtime and Handler are mandatory parameters for functions created with deployment packages."},
		{"description", func(in *awslambda.CreateFunctionInput) { in.Description = aws.String(strings.Repeat("d", 257)) }, "ValidationException",
			"1 validation error detected: Value '" + strings.Repeat("d", 257) + "' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"two violations", func(in *awslambda.CreateFunctionInput) { in.Role = aws.String("r1"); in.Timeout = aws.Int32(0) }, "ValidationException", ""},
		{"other region", func(in *awslambda.CreateFunctionInput) {
			in.FunctionName = aws.String("arn:aws:lambda:ap-southeast-1:000000000000:function:f")
		}, "ResourceNotFoundException", "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := createInput("v-"+strings.ReplaceAll(tc.name, " ", "-"), "python3.12", zipb)
			tc.mod(in)
			_, err := s.client.CreateFunction(ctx, in)
			ae := apiErr(t, err, tc.code, tc.msg)
			if tc.name == "two violations" && !strings.HasPrefix(ae.ErrorMessage(), "2 validation errors detected: ") {
				t.Fatalf("message = %q", ae.ErrorMessage())
			}
		})
	}
	// Nothing was created by any failing request.
	out, err := s.client.ListFunctions(ctx, &awslambda.ListFunctionsInput{})
	if err != nil || len(out.Functions) != 0 {
		t.Fatalf("ListFunctions after failures = %d functions, %v", len(out.Functions), err)
	}
	_, err = s.client.ListFunctions(ctx, &awslambda.ListFunctionsInput{FunctionVersion: "invalid"})
	apiErr(t, err, "ValidationException", "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]")
}

func TestE2EUnsafeZips(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	link := fs.ModeSymlink | 0o777
	tests := []struct {
		name string
		zip  []byte
		msg  string
	}{
		{"escape", makeZip(t, zfile{name: "../../etc/evil", body: "x"}), lambda.MsgCouldNotUnzip},
		{"absolute", makeZip(t, zfile{name: "/tmp/evil", body: "x"}), lambda.MsgCouldNotUnzip},
		{"symlink out", makeZip(t, zfile{name: "l", body: "/etc/passwd", mode: link}), lambda.MsgCouldNotUnzip},
		{"symlink up", makeZip(t, zfile{name: "a/l", body: "../../x", mode: link}), lambda.MsgCouldNotUnzip},
		{"declared too big", hugeDeclaredZip(t), "Unzipped size must be smaller than 262144000 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.client.CreateFunction(t.Context(), createInput("unsafe", "python3.12", tc.zip))
			apiErr(t, err, "InvalidParameterValueException", tc.msg)
		})
	}
	_, err := s.client.GetFunction(t.Context(), &awslambda.GetFunctionInput{FunctionName: aws.String("unsafe")})
	apiErr(t, err, "ResourceNotFoundException", "")
}

func TestE2ERevisionAndStates(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	if _, err := s.client.CreateFunction(ctx, createInput("gated", gatedRuntime, handlerZip(t))); err != nil {
		t.Fatal(err)
	}
	_, err := s.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("gated"), Timeout: aws.Int32(9)})
	apiErr(t, err, "ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Pending")
	_, err = s.client.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("gated"), ZipFile: handlerZip(t)})
	apiErr(t, err, "ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Pending")

	s.gate.open()
	waitActive(t, s, "gated")
	s.gate.mu.Lock()
	s.gate.ch = make(chan struct{}) // close the gate again for the update
	s.gate.mu.Unlock()

	cfg, _ := s.client.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("gated")})
	_, err = s.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("gated"), Timeout: aws.Int32(9), RevisionId: aws.String("wrong")})
	apiErr(t, err, "PreconditionFailedException", lambda.MsgRevisionMismatch)
	if _, err := s.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("gated"), Timeout: aws.Int32(9), RevisionId: cfg.RevisionId}); err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}
	_, err = s.client.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("gated"), ZipFile: handlerZip(t)})
	apiErr(t, err, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:gated")
	s.gate.open()
	waitUpdated(t, s, "gated")

	// A runtime the host cannot serve ends Failed, and the waiter says so.
	if _, err := s.client.CreateFunction(ctx, createInput("broken", brokenRuntime, handlerZip(t))); err != nil {
		t.Fatal(err)
	}
	w := awslambda.NewFunctionActiveV2Waiter(s.client, func(o *awslambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(waitCtx(t), &awslambda.GetFunctionInput{FunctionName: aws.String("broken")}, 60*time.Second); err == nil {
		t.Fatal("FunctionActiveV2 waiter succeeded on a Failed function")
	}
	b, _ := s.client.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("broken")})
	if b.State != types.StateFailed || aws.ToString(b.StateReason) != "runtime ruby3.3 is not available on this host" || b.StateReasonCode != types.StateReasonCodeInvalidRuntime {
		t.Fatalf("broken = %v %q %v", b.State, aws.ToString(b.StateReason), b.StateReasonCode)
	}
}

func TestE2ENamesAndARNs(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	// CreateFunction accepts a full ARN and a partial ARN as the name.
	if _, err := s.client.CreateFunction(ctx, createInput("arn:aws:lambda:us-east-1:000000000000:function:byarn", "python3.12", handlerZip(t))); err != nil {
		t.Fatalf("create by ARN: %v", err)
	}
	if _, err := s.client.CreateFunction(ctx, createInput("000000000000:function:bypartial", "python3.12", handlerZip(t))); err != nil {
		t.Fatalf("create by partial ARN: %v", err)
	}
	for _, name := range []string{"byarn", "byarn:$LATEST", "000000000000:function:byarn", "arn:aws:lambda:us-east-1:000000000000:function:byarn", "arn:aws:lambda:us-east-1:000000000000:function:byarn:$LATEST"} {
		out, err := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil || aws.ToString(out.Configuration.FunctionName) != "byarn" {
			t.Fatalf("GetFunction(%q) = %v", name, err)
		}
	}
	_, err := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("byarn:$LATEST"), Qualifier: aws.String("1")})
	apiErr(t, err, "InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier.")
	_, err = s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("byarn"), Qualifier: aws.String("1221")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:byarn:1221")
	_, err = s.client.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("arn:aws:lambda:eu-west-1:000000000000:function:byarn")})
	apiErr(t, err, "ResourceNotFoundException", "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')")
	_, err = s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda::000000000000:function:byarn")})
	apiErr(t, err, "ValidationException", "")
	_, err = s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("byarn"), Qualifier: aws.String("$LATEST")})
	apiErr(t, err, "InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function.")
	if _, err := s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:000000000000:function:byarn")}); err != nil {
		t.Fatalf("DeleteFunction(ARN): %v", err)
	}
	_, err = s.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("byarn")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:byarn")
}

func TestE2EListPagination(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	zipb := handlerZip(t)
	const n = 53
	for i := range n {
		if _, err := s.client.CreateFunction(ctx, createInput(fmt.Sprintf("page-%03d", i), "python3.12", zipb)); err != nil {
			t.Fatal(err)
		}
	}
	first, err := s.client.ListFunctions(ctx, &awslambda.ListFunctionsInput{MaxItems: aws.Int32(1000)})
	if err != nil || len(first.Functions) != 50 || first.NextMarker == nil {
		t.Fatalf("first page = %d items, marker %v, %v (want 50 and a marker)", len(first.Functions), first.NextMarker, err)
	}
	p := awslambda.NewListFunctionsPaginator(s.client, &awslambda.ListFunctionsInput{MaxItems: aws.Int32(7)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range out.Functions {
			names = append(names, aws.ToString(f.FunctionName))
			if f.State != "" || f.RuntimeVersionConfig != nil {
				t.Fatalf("list item has State/RuntimeVersionConfig: %+v", f)
			}
			if !strings.HasSuffix(aws.ToString(f.FunctionArn), ":function:"+aws.ToString(f.FunctionName)) {
				t.Fatalf("list ARN not unqualified: %s", aws.ToString(f.FunctionArn))
			}
		}
	}
	if len(names) != n || pages != 8 {
		t.Fatalf("paginated %d names over %d pages, want %d over 8", len(names), pages, n)
	}
	for i, name := range names {
		if name != fmt.Sprintf("page-%03d", i) {
			t.Fatalf("names[%d] = %s: not sorted", i, name)
		}
	}
	all, err := s.client.ListFunctions(ctx, &awslambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll, MasterRegion: aws.String("ALL"), MaxItems: aws.Int32(1)})
	if err != nil || !strings.HasSuffix(aws.ToString(all.Functions[0].FunctionArn), ":$LATEST") {
		t.Fatalf("FunctionVersion=ALL = %+v, %v", all, err)
	}
	acc, err := s.client.GetAccountSettings(ctx, &awslambda.GetAccountSettingsInput{})
	if err != nil || acc.AccountUsage.FunctionCount != n || acc.AccountLimit.ConcurrentExecutions != 1000 ||
		acc.AccountLimit.CodeSizeZipped != 52428800 || acc.AccountUsage.TotalCodeSize != int64(n*len(zipb)) {
		t.Fatalf("GetAccountSettings = %+v %+v, %v", acc.AccountLimit, acc.AccountUsage, err)
	}
}

func TestE2ERestart(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	want := map[string]*awslambda.GetFunctionConfigurationOutput{}
	for _, name := range []string{"keep-a", "keep-b"} {
		if _, err := s.client.CreateFunction(ctx, createInput(name, "python3.12", makeZip(t, zfile{name: "handler.py", body: name}))); err != nil {
			t.Fatal(err)
		}
		waitActive(t, s, name)
		c, err := s.client.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		want[name] = c
	}
	s.restart()
	for name, w := range want {
		got, err := s.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil {
			t.Fatalf("after restart GetFunction(%s): %v", name, err)
		}
		c := got.Configuration
		if aws.ToString(c.CodeSha256) != aws.ToString(w.CodeSha256) || aws.ToString(c.RevisionId) != aws.ToString(w.RevisionId) || c.State != types.StateActive {
			t.Fatalf("after restart %s = sha %s rev %s state %s, want sha %s rev %s", name,
				aws.ToString(c.CodeSha256), aws.ToString(c.RevisionId), c.State, aws.ToString(w.CodeSha256), aws.ToString(w.RevisionId))
		}
		resp, err := http.Get(aws.ToString(got.Code.Location))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if lambdaSha(b) != aws.ToString(w.CodeSha256) {
			t.Fatalf("downloaded code of %s does not match its CodeSha256", name)
		}
	}
}

// TestE2ERawHTTP covers what SDKs do not exercise: trailing slashes, the
// error body shape, request IDs and unknown operations.
func TestE2ERawHTTP(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	if _, err := s.client.CreateFunction(ctx, createInput("raw", "python3.12", handlerZip(t))); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/2015-03-31/functions/", "/2015-03-31/functions", "/2016-08-19/account-settings/", "/2015-03-31/functions/raw/", "/2015-03-31/functions/raw/configuration/", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Araw%3A%24LATEST"} {
		resp, err := http.Get(s.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || len(resp.Header.Get("x-amzn-RequestId")) != 36 {
			t.Fatalf("GET %s = %d, request id %q", path, resp.StatusCode, resp.Header.Get("x-amzn-RequestId"))
		}
	}
	tests := []struct {
		method, path, body string
		status             int
		errType            string
		wantBody           map[string]string
	}{
		{"GET", "/2015-03-31/functions/nope", "", 404, "ResourceNotFoundException",
			map[string]string{"Type": "User", "Message": "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"}},
		{"PUT", "/2015-03-31/functions/raw/configuration", `{"RevisionId":"x"}`, 412, "PreconditionFailedException", nil},
		{"POST", "/2015-03-31/functions", `{"FunctionName": 5}`, 400, "InvalidRequestContentException", nil},
		{"GET", "/2099-01-01/nothing", "", 404, "UnknownOperationException", nil},
		{"PATCH", "/2015-03-31/functions/raw", "", 404, "UnknownOperationException", nil},
		{"POST", "/2015-03-31/functions/raw/invocations", "{}", 500, "ServiceException", map[string]string{"Type": "Service", "Message": "invoke is not available"}},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, s.srv.URL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("x-amzn-ErrorType") != tc.errType || resp.Header.Get("x-amzn-RequestId") == "" {
			t.Fatalf("%s %s = %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), tc.status, tc.errType)
		}
		if tc.wantBody != nil && fmt.Sprint(body) != fmt.Sprint(tc.wantBody) {
			t.Fatalf("%s %s body = %v, want %v", tc.method, tc.path, body, tc.wantBody)
		}
		if tc.wantBody == nil && body["message"] == "" {
			t.Fatalf("%s %s body = %v, want a lowercase message member", tc.method, tc.path, body)
		}
	}
}

func TestE2EOversizedRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 70 MB bodies")
	}
	s := startServer(t, t.TempDir(), nil)
	// Above the whole-request cap: rejected while reading.
	body := io.MultiReader(strings.NewReader(`{"FunctionName":"big","Code":{"ZipFile":"`), io.LimitReader(neverEnding('A'), lambda.MaxCreateRequestBytes), strings.NewReader(`"}}`))
	resp, err := http.Post(s.srv.URL+"/2015-03-31/functions", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.StatusCode != 413 || resp.Header.Get("x-amzn-ErrorType") != "RequestEntityTooLargeException" || m["message"] != "Request must be smaller than 70167211 bytes for the CreateFunction operation" {
		t.Fatalf("oversized request = %d %q %v", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), m)
	}
	// Within the request cap but a zip above 50 MB.
	zipb := bytes.Repeat([]byte{'Z'}, lambda.MaxZippedCodeBytes+1)
	_, err = s.client.CreateFunction(t.Context(), createInput("big", "python3.12", zipb))
	apiErr(t, err, "RequestEntityTooLargeException", "Zipped size must be smaller than 52428800 bytes")
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
