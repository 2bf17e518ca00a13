// Package hostile makes inputs an attacker would send, for the tests and the
// benchmark's attacks; nothing here runs on a request's path.
package hostile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// PNGWithText returns png with n zTXt chunks of compressed text after its
// header, each 1 KB that inflates to 1 MiB: metadata libpng inflates while
// reading the header.
func PNGWithText(png []byte, n int) []byte {
	var text bytes.Buffer
	zw := zlib.NewWriter(&text)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	data := append([]byte("Comment\x00\x00"), text.Bytes()...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, "zTXt"...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	const afterIHDR = 8 + 12 + 13 // signature, then IHDR's length, type, 13 bytes and CRC
	out := append([]byte{}, png[:afterIHDR]...)
	for range n {
		out = append(out, chunk...)
	}
	return append(out, png[afterIHDR:]...)
}
