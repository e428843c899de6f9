package awstest

// The rpcv2Cbor protocol (CloudWatch in current SDKs): POST
// /service/SERVICE/operation/OP, CBOR bodies, built on smithy-go's CBOR
// encoder and decoder.

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// CBORCall reads an rpcv2Cbor request of service (e.g.
// "GraniteServiceVersion20100801"): its operation and its body, a CBOR map.
// It counts the call in faults and answers a malformed request, or an
// injected fault, itself (as an error of namespace ns, e.g.
// "com.amazonaws.cloudwatch"): then ok is false and the caller returns.
func CBORCall(w http.ResponseWriter, r *http.Request, service, ns string, faults *Faults) (op string, in cbor.Map, ok bool) {
	op, ok = strings.CutPrefix(r.URL.Path, "/service/"+service+"/operation/")
	if !ok || r.Method != http.MethodPost || r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		WriteCBORError(w, ns, Fault{http.StatusBadRequest, "UnknownOperation", r.Method + " " + r.URL.Path})
		return "", nil, false
	}
	fault, answer := faults.Intercept(op, r)
	if !answer {
		return "", nil, false
	}
	if fault != nil {
		WriteCBORError(w, ns, *fault)
		return "", nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		WriteCBORError(w, ns, Fault{http.StatusBadRequest, "SerializationException", "read body: " + err.Error()})
		return "", nil, false
	}
	v, err := cbor.Decode(body)
	in, isMap := v.(cbor.Map)
	if err != nil || !isMap {
		WriteCBORError(w, ns, Fault{http.StatusBadRequest, "SerializationException", fmt.Sprintf("body is not a CBOR map (decode error: %s)", errText(err))})
		return "", nil, false
	}
	return op, in, true
}

func errText(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

// WriteCBOR writes out as an rpcv2Cbor answer.
func WriteCBOR(w http.ResponseWriter, out cbor.Map) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(out))
}

// WriteCBORError writes an rpcv2Cbor error answer of namespace ns, with
// the awsQuery-compatible X-Amzn-Query-Error header CloudWatch sends.
func WriteCBORError(w http.ResponseWriter, ns string, f Fault) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	kind := "Sender"
	if f.Status >= 500 {
		kind = "Receiver"
	}
	w.Header().Set("X-Amzn-Query-Error", f.Code+";"+kind)
	w.WriteHeader(f.Status)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(ns + "#" + f.Code), "message": cbor.String(f.Message)}))
}

func cborStr(v cbor.Value) string {
	s, _ := v.(cbor.String)
	return string(s)
}

func cborList(v cbor.Value) cbor.List {
	l, _ := v.(cbor.List)
	return l
}

func cborMap(v cbor.Value) cbor.Map {
	m, _ := v.(cbor.Map)
	return m
}

func cborInt(v cbor.Value) int {
	switch x := v.(type) {
	case cbor.Uint:
		return int(x)
	case cbor.NegInt:
		return -int(x)
	}
	return 0
}

func cborTime(v cbor.Value) (time.Time, bool) {
	tag, ok := v.(*cbor.Tag)
	if !ok || tag.ID != 1 {
		return time.Time{}, false
	}
	switch x := tag.Value.(type) {
	case cbor.Float64:
		return time.UnixMilli(int64(math.Round(float64(x) * 1000))).UTC(), true
	case cbor.Uint:
		return time.Unix(int64(x), 0).UTC(), true
	}
	return time.Time{}, false
}

func cborTimestamp(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}
}
