package imaging

// #cgo pkg-config: vips
// #include <stdlib.h>
// #include <vips/vips.h>
import "C"

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"unsafe"

	"github.com/davidbyttow/govips/v2/vips"
)

// whenDone kills img's evaluation once ctx is done: libvips checks the flag
// between tiles and in libwebp's progress hook, so the encode in progress
// stops there with an error instead of running to the end for nobody.
// stop must be called before img is closed.
func whenDone(ctx context.Context, img *vips.ImageRef) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	p := vipsImage(img)
	if p == nil {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			C.vips_image_set_kill(p, C.TRUE)
		case <-done:
		}
	}()
	return func() { close(done); <-exited }
}

// vipsImage is the C image behind img, or nil if govips no longer keeps it
// where v2.18 does. govips keeps it unexported and has no kill of its own;
// reading the field is all that is done with it.
func vipsImage(img *vips.ImageRef) *C.VipsImage {
	f := reflect.ValueOf(img).Elem().FieldByName("image")
	if !f.IsValid() || f.Kind() != reflect.Pointer {
		return nil
	}
	return (*C.VipsImage)(f.UnsafePointer())
}

// inMemory computes img's pixels into memory, in place (vips_image_wio_input),
// so that several encodes read them without decoding the source again.
func inMemory(img *vips.ImageRef) error {
	p := vipsImage(img)
	if p == nil {
		return errors.New("govips keeps its image elsewhere")
	}
	defer runtime.KeepAlive(img)
	if C.vips_image_wio_input(p) != 0 {
		return vipsError()
	}
	return nil
}

// vipsError is, in one line, the error libvips reported last; it clears it.
func vipsError() error {
	msg := C.GoString(C.vips_error_buffer())
	C.vips_error_clear()
	return errors.New(oneLine(errors.New(msg)))
}

// setBlob sets a metadata blob on img, a copy of data. govips' SetBlob
// hands C a pointer to the slice header, not the bytes.
func setBlob(img *vips.ImageRef, name string, data []byte) error {
	p := vipsImage(img)
	if p == nil || len(data) == 0 {
		return errors.New("govips keeps its image elsewhere")
	}
	defer runtime.KeepAlive(img)
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	C.vips_image_set_blob_copy(p, cname, unsafe.Pointer(&data[0]), C.size_t(len(data)))
	return nil
}

// setWebPProfile makes govips' WebP export embed the ICC profile at path:
// ExportWebp takes its profile from an unexported field (set only by
// OptimizeICCProfile, which converts the pixels too), not from its params.
func setWebPProfile(img *vips.ImageRef, path string) bool {
	f := reflect.ValueOf(img).Elem().FieldByName("optimizedIccProfile")
	if !f.IsValid() || f.Kind() != reflect.String {
		return false
	}
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().SetString(path)
	return true
}
