package awstest

// The awsJson1_1 protocol (ECS, CodeDeploy, KMS): POST /, the operation
// in the X-Amz-Target header, JSON bodies.

import (
	"encoding/json"
	"net/http"
	"strings"
)

// JSONCall returns the operation of an awsJson1_1 request whose
// X-Amz-Target starts with prefix (e.g. "AmazonEC2ContainerServiceV20141113."),
// counted in faults. It answers a malformed request, or an injected fault,
// itself: then ok is false and the caller returns.
func JSONCall(w http.ResponseWriter, r *http.Request, prefix string, faults *Faults) (op string, ok bool) {
	op, ok = strings.CutPrefix(r.Header.Get("X-Amz-Target"), prefix)
	if !ok || r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") {
		WriteJSONError(w, Fault{http.StatusBadRequest, "UnknownOperationException", "bad target " + r.Header.Get("X-Amz-Target")})
		return "", false
	}
	fault, answer := faults.Intercept(op, r)
	if !answer {
		return "", false
	}
	if fault != nil {
		WriteJSONError(w, *fault)
		return "", false
	}
	return op, true
}

// WriteJSON writes v as an awsJson1_1 answer.
func WriteJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteJSONError(w, Fault{http.StatusInternalServerError, "InternalFailure", err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(b)
}

// WriteJSONError writes an awsJson1_1 error answer. The code Throttling is
// written ThrottlingException, as these services name it.
func WriteJSONError(w http.ResponseWriter, f Fault) {
	if f.Code == Throttling.Code {
		f.Code = "ThrottlingException"
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", f.Code)
	w.WriteHeader(f.Status)
	b, _ := json.Marshal(map[string]string{"__type": f.Code, "message": f.Message})
	_, _ = w.Write(b)
}
