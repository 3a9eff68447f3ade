package control

import (
	"context"
)

// Read-only settings Terraform's aws_lambda_function reads after every
// apply. lambdad has no code signing, pins no runtime versions and does not
// detect recursive loops, so each reports AWS's answer for a function
// without those features.

// CodeSigningOutput is the GetFunctionCodeSigningConfig body.
type CodeSigningOutput struct {
	CodeSigningConfigArn string `json:"CodeSigningConfigArn"`
	FunctionName         string `json:"FunctionName"`
}

// RuntimeManagementOutput is the GetRuntimeManagementConfig body.
type RuntimeManagementOutput struct {
	UpdateRuntimeOn string `json:"UpdateRuntimeOn"`
	FunctionArn     string `json:"FunctionArn"`
}

// RecursionOutput is the GetFunctionRecursionConfig body.
type RecursionOutput struct {
	RecursiveLoop string `json:"RecursiveLoop"`
}

// GetFunctionCodeSigningConfig reports that the function has no code
// signing configuration (an empty ARN, as AWS answers for unsigned ones).
func (s *Service) GetFunctionCodeSigningConfig(ctx context.Context, param string) (*CodeSigningOutput, error) {
	r, _, err := s.function(ctx, param, "")
	if err != nil {
		return nil, err
	}
	return &CodeSigningOutput{FunctionName: r.latest.Name()}, nil
}

// GetRuntimeManagementConfig reports UpdateRuntimeOn Auto for the
// function or version.
func (s *Service) GetRuntimeManagementConfig(ctx context.Context, param, qualifier string) (*RuntimeManagementOutput, error) {
	r, q, err := s.function(ctx, param, qualifier)
	if err != nil {
		return nil, err
	}
	return &RuntimeManagementOutput{UpdateRuntimeOn: "Auto", FunctionArn: s.qarn(r.latest.Name(), q)}, nil
}

// GetFunctionRecursionConfig reports AWS's default, Terminate.
func (s *Service) GetFunctionRecursionConfig(ctx context.Context, param string) (*RecursionOutput, error) {
	if _, _, err := s.function(ctx, param, ""); err != nil {
		return nil, err
	}
	return &RecursionOutput{RecursiveLoop: "Terminate"}, nil
}
