package api

import (
	"net/http"

	"github.com/lambdad/lambdad/internal/control"
	"github.com/lambdad/lambdad/internal/lambda"
)

var errUnknownOperation = lambda.UnknownOperation()

func (s *Server) createFunction(w http.ResponseWriter, r *http.Request) error {
	var in control.CreateFunctionInput
	if err := decodeJSON(r, w, &in, lambda.MaxCreateRequestBytes, "CreateFunction"); err != nil {
		return err
	}
	out, err := s.ctl.CreateFunction(r.Context(), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	out, err := s.ctl.ListFunctions(r.Context(), control.ListFunctionsInput{
		Marker:          q.Get("Marker"),
		MaxItems:        q.Get("MaxItems"),
		FunctionVersion: q.Get("FunctionVersion"),
		MasterRegion:    q.Get("MasterRegion"),
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getFunction(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetFunction(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getFunctionConfiguration(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetFunctionConfiguration(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteFunction(w http.ResponseWriter, r *http.Request) error {
	if err := s.ctl.DeleteFunction(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("Qualifier")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) updateFunctionCode(w http.ResponseWriter, r *http.Request) error {
	var in control.UpdateFunctionCodeInput
	if err := decodeJSON(r, w, &in, lambda.MaxCreateRequestBytes, "UpdateFunctionCode"); err != nil {
		return err
	}
	in.FunctionName = r.PathValue("FunctionName")
	out, err := s.ctl.UpdateFunctionCode(r.Context(), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateFunctionConfiguration(w http.ResponseWriter, r *http.Request) error {
	var in control.UpdateFunctionConfigurationInput
	if err := decodeJSON(r, w, &in, maxSmallRequestBytes, "UpdateFunctionConfiguration"); err != nil {
		return err
	}
	in.FunctionName = r.PathValue("FunctionName")
	out, err := s.ctl.UpdateFunctionConfiguration(r.Context(), &in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getAccountSettings(w http.ResponseWriter, r *http.Request) error {
	out, err := s.ctl.GetAccountSettings(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) downloadCode(w http.ResponseWriter, r *http.Request) error {
	b, err := s.ctl.Code(r.Context(), r.PathValue("FunctionName"), r.URL.Query().Get("CodeSha256"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}
