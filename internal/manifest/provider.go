package manifest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Defaults the Framework applies (lib/plugins/aws/package/compile/functions.js).
const (
	DefaultMemorySize           = 1024
	DefaultTimeout              = 6
	DefaultEphemeralStorageSize = 512
	DefaultArchitecture         = "x86_64"
	DefaultHTTPAPIPayload       = "2.0"
)

// runtimeIDs are the Lambda runtime identifiers accepted in a manifest.
// Whether this server can run one is the server's answer at deploy time.
var runtimeIDs = []string{
	"provided.al2023", "provided.al2", "provided",
	"nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x",
	"python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
	"java8", "java8.al2", "java11", "java17", "java21",
	"dotnet6", "dotnet8", "ruby3.2", "ruby3.3",
}

var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	envKeyRE = regexp.MustCompile(`^[A-Za-z_][a-zA-Z0-9_]*$`)
	tagKeyRE = regexp.MustCompile(`^[\w./=+:\-_ ]{1,128}$`)
)

// reservedEnv are variables Lambda sets itself and refuses in Environment.
var reservedEnv = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

// provider holds the provider-level values functions inherit.
type provider struct {
	runtime          string
	runtimeNode      *yaml.Node
	architecture     string
	memorySize       int
	timeout          int
	environment      map[string]string
	tags             map[string]string
	layers           *yaml.Node // resolved per function: the layers section is needed
	versionFunctions bool
	logRetention     int
	httpAPIPayload   string
	httpAPICORS      *CORS
	// httpAPICORSMethods: the CORS methods are the union of the routes'
	// methods plus OPTIONS (cors: true, or no allowedMethods given).
	httpAPICORSMethods bool
}

var providerKnown = []string{"name", "stage", "region", "runtime", "architecture", "memorySize", "timeout",
	"environment", "tags", "layers", "versionFunctions", "logRetentionInDays", "httpApi"}

const whyNoCredentials = "lambdad functions get no ambient AWS credentials, so IAM grants nothing"

var providerAWS = map[string]awsField{
	"deploymentBucket":                      {policy: awsWarn, why: "no CloudFormation deployment bucket"},
	"deploymentPrefix":                      {policy: awsWarn, why: "no CloudFormation deployment bucket"},
	"deploymentMethod":                      {policy: awsWarn, why: "lambdad applies changes directly, without CloudFormation"},
	"stackName":                             {policy: awsWarn, why: "no CloudFormation stack"},
	"stackTags":                             {policy: awsWarn, why: "no CloudFormation stack"},
	"stackPolicy":                           {policy: awsWarn, why: "no CloudFormation stack"},
	"stackParameters":                       {policy: awsWarn, why: "no CloudFormation stack"},
	"notificationArns":                      {policy: awsWarn, why: "no CloudFormation stack"},
	"rollbackConfiguration":                 {policy: awsWarn, why: "no CloudFormation stack"},
	"disableRollback":                       {policy: awsWarn, why: "no CloudFormation stack"},
	"cfnRole":                               {policy: awsWarn, why: "no CloudFormation stack"},
	"lambdaHashingVersion":                  {policy: awsWarn, why: "lambdad hashes deterministic artifacts itself"},
	"runtimeManagement":                     {policy: awsWarn, why: "runtimes are the host's"},
	"profile":                               {policy: awsWarn, why: "no AWS credentials are used"},
	"ecr":                                   {policy: awsWarn, why: "container images are not supported yet"},
	"alb":                                   {policy: awsWarn, why: "no application load balancer"},
	"cloudFront":                            {policy: awsWarn, why: "no CloudFront"},
	"logs":                                  {policy: awsWarn, why: "API Gateway access logs do not exist here"},
	"kinesis":                               {policy: awsWarn, why: "Kinesis consumer naming is AWS-only"},
	"eventBridge":                           {policy: awsWarn, why: "EventBridge CloudFormation settings are AWS-only"},
	"s3":                                    {policy: awsWarn, why: "bucket definitions are not created by lambdad yet"},
	"apiGateway":                            {policy: awsWarn, why: "REST API settings are not applied by lambdad yet"},
	"apiName":                               {policy: awsWarn, why: "API Gateway naming is AWS-only"},
	"endpointType":                          {policy: awsWarn, why: "API Gateway endpoint types are AWS-only"},
	"websocketsApiName":                     {policy: awsWarn, why: "websockets are not supported yet"},
	"websocketsApiRouteSelectionExpression": {policy: awsWarn, why: "websockets are not supported yet"},
	"websocketsDescription":                 {policy: awsWarn, why: "websockets are not supported yet"},
	"tracing":                               {policy: awsWarn, why: "lambdad has no tracing backend yet; _X_AMZN_TRACE_ID is still forwarded"},
	"iam":                                   {policy: awsWarn, why: whyNoCredentials},
	"iamRoleStatements":                     {policy: awsWarn, why: whyNoCredentials},
	"iamManagedPolicies":                    {policy: awsWarn, why: whyNoCredentials},
	"role":                                  {policy: awsWarn, why: whyNoCredentials},
	"rolePermissionsBoundary":               {policy: awsWarn, why: whyNoCredentials},
	"vpc":                                   {policy: awsReject, why: "lambdad has no VPC networking; the function would run with the host's network reach, not the subnets and security groups you set"},
	"vpcEndpointIds":                        {policy: awsReject, why: "private API endpoints do not exist here, so the API would not be private"},
	"kmsKeyArn":                             {policy: awsReject, why: "environment variables are not encrypted with your KMS key here"},
}

// provider decodes the provider section.
func (d *decoder) provider(n *yaml.Node) *provider {
	p := &provider{versionFunctions: true}
	f := d.object(n, "provider", providerKnown, providerAWS)
	if v := f["name"]; v == nil {
		if n != nil {
			d.errorf(n, "provider.name", CodeMissingKey, "provider.name is required (aws)")
		}
	} else if s, ok := d.str(v, "provider.name"); ok && s != "aws" && s != "lambdad" {
		d.errorf(v, "provider.name", CodeInvalidValue, "provider %q is not supported; use aws (or lambdad)", s)
	}
	d.str(f["stage"], "provider.stage")
	d.str(f["region"], "provider.region")
	if v := f["runtime"]; v != nil {
		if s, ok := d.str(v, "provider.runtime"); ok && d.checkRuntime(v, "provider.runtime", s) {
			p.runtime, p.runtimeNode = s, v
		}
	}
	if v, ok := d.enum(f["architecture"], "provider.architecture", "x86_64", "arm64"); ok {
		p.architecture = v
	}
	p.memorySize, _ = d.integer(f["memorySize"], "provider.memorySize", 128, 10240)
	p.timeout, _ = d.integer(f["timeout"], "provider.timeout", 1, 900)
	p.environment = d.environment(f["environment"], "provider.environment")
	p.tags = d.tags(f["tags"], "provider.tags")
	p.layers = f["layers"]
	if b, ok := d.boolean(f["versionFunctions"], "provider.versionFunctions"); ok {
		p.versionFunctions = b
	}
	p.logRetention = d.logRetention(f["logRetentionInDays"], "provider.logRetentionInDays")
	p.httpAPIPayload = DefaultHTTPAPIPayload
	if h := f["httpApi"]; h != nil {
		hf := d.object(h, "provider.httpApi", []string{"cors", "payload"}, map[string]awsField{
			"authorizers":                {policy: awsReject, why: "HTTP API authorizers are not enforced yet, so routes would be public"},
			"id":                         {policy: awsWarn, why: "attaching to an existing API Gateway is AWS-only"},
			"name":                       {policy: awsWarn, why: "API Gateway naming is AWS-only"},
			"disableDefaultEndpoint":     {policy: awsWarn, why: "API Gateway endpoint setting"},
			"metrics":                    {policy: awsWarn, why: "CloudWatch metrics are AWS-only"},
			"shouldStartNameWithService": {policy: awsWarn, why: "API Gateway naming is AWS-only"},
			"useProviderTags":            {policy: awsWarn, why: "API Gateway tags are AWS-only"},
		})
		if s, ok := d.enum(hf["payload"], "provider.httpApi.payload", "1.0", "2.0"); ok {
			p.httpAPIPayload = s
		}
		p.httpAPICORS = d.cors(hf["cors"], "provider.httpApi.cors", httpAPICORSHeaders)
		p.httpAPICORSMethods = p.httpAPICORS != nil && len(p.httpAPICORS.AllowMethods) == 0
	}
	return p
}

// checkRuntime validates a runtime identifier.
func (d *decoder) checkRuntime(n *yaml.Node, path, s string) bool {
	if s == "go1.x" || slices.Contains(runtimeIDs, s) {
		return true
	}
	hint := ""
	if h := suggest(s, runtimeIDs); h != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", h)
	}
	d.schemaf(n, path, CodeInvalidValue, "unknown runtime %q%s", s, hint)
	return false
}

// environment decodes an environment object.
func (d *decoder) environment(n *yaml.Node, path string) map[string]string {
	return d.strMap(n, path, func(k *yaml.Node, kp string) bool {
		if !envKeyRE.MatchString(k.Value) {
			d.schemaf(k, kp, CodeInvalidValue, "environment variable name %q must match [A-Za-z_][A-Za-z0-9_]*", k.Value)
			return false
		}
		if slices.Contains(reservedEnv, k.Value) {
			d.errorf(k, kp, CodeInvalidValue, "%s is reserved by Lambda and cannot be set", k.Value)
			return false
		}
		return true
	})
}

// tags decodes a tags object.
func (d *decoder) tags(n *yaml.Node, path string) map[string]string {
	m := d.strMap(n, path, func(k *yaml.Node, kp string) bool {
		if strings.HasPrefix(strings.ToLower(k.Value), "aws:") {
			d.schemaf(k, kp, CodeInvalidValue, "tag key %q must not start with aws:", k.Value)
			return false
		}
		if !tagKeyRE.MatchString(k.Value) {
			d.schemaf(k, kp, CodeInvalidValue, "tag key %q must be 1–128 letters, digits, spaces or _.:/=+-", k.Value)
			return false
		}
		return true
	})
	for k, v := range m {
		if len(v) > 256 {
			d.schemaf(mapGet(n, k), joinPath(path, k), CodeInvalidValue, "tag value is %d characters, at most 256 allowed", len(v))
			delete(m, k)
		}
	}
	return m
}

func (d *decoder) logRetention(n *yaml.Node, path string) int {
	v, ok := d.integer(n, path, 1, 3653)
	if !ok {
		return 0
	}
	if !slices.Contains(logRetentionDays, v) {
		d.schemaf(n, path, CodeInvalidValue, "%d is not a CloudWatch retention period (1, 3, 5, 7, 14, 30, 60, 90, ...)", v)
		return 0
	}
	return v
}

// CORS defaults of the Framework.
var (
	httpAPICORSHeaders = []string{"Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key", "X-Amz-Security-Token", "X-Amz-User-Agent", "X-Amzn-Trace-Id"}
	urlCORSHeaders     = []string{"Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key", "X-Amz-Security-Token"}
)

// cors decodes `cors: true` or a CORS object; AllowMethods stays empty when
// not given, for the caller's default (HTTP API and function URL
// field names; the REST API's origin/origins/headers/methods are mapped).
func (d *decoder) cors(n *yaml.Node, path string, defHeaders []string) *CORS {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		b, ok := d.boolean(n, path)
		if !ok || !b {
			return nil
		}
		return &CORS{AllowOrigins: []string{"*"}, AllowHeaders: slices.Clone(defHeaders)}
	}
	f := d.object(n, path, []string{"allowedOrigins", "allowedHeaders", "allowedMethods", "allowCredentials", "exposedResponseHeaders", "maxAge",
		"origin", "origins", "headers", "methods", "cacheControl"}, nil)
	c := &CORS{
		AllowOrigins:  d.strList(f["allowedOrigins"], path+".allowedOrigins"),
		AllowHeaders:  d.strList(f["allowedHeaders"], path+".allowedHeaders"),
		AllowMethods:  d.strList(f["allowedMethods"], path+".allowedMethods"),
		ExposeHeaders: d.strList(f["exposedResponseHeaders"], path+".exposedResponseHeaders"),
		MaxAge:        d.intPtr(f["maxAge"], path+".maxAge", 0, 86400),
	}
	c.AllowCredentials, _ = d.boolean(f["allowCredentials"], path+".allowCredentials")
	c.AllowOrigins = append(c.AllowOrigins, d.strList(f["origin"], path+".origin")...)
	c.AllowOrigins = append(c.AllowOrigins, d.strList(f["origins"], path+".origins")...)
	c.AllowHeaders = append(c.AllowHeaders, d.strList(f["headers"], path+".headers")...)
	c.AllowMethods = append(c.AllowMethods, d.strList(f["methods"], path+".methods")...)
	if f["cacheControl"] != nil {
		d.warnf(f["cacheControl"], path+".cacheControl", CodeAWSOnlyIgnored, "cacheControl is not applied by lambdad")
	}
	if len(c.AllowOrigins) == 0 {
		c.AllowOrigins = []string{"*"}
	}
	if len(c.AllowHeaders) == 0 {
		c.AllowHeaders = slices.Clone(defHeaders)
	}
	return c
}
