package imaging

// SetBlob is setBlob, for the tests' originals.
var SetBlob = setBlob

// ReduceTo is reduceTo, for its bound.
var ReduceTo = reduceTo

// LoadThumbnail and DirectSize are the thumbnail through libwebp directly,
// to be compared with libvips' own.
var (
	LoadThumbnail = loadThumbnail
	DirectSize    = directSize
)

// LanczosReduce is lanczosReduce, to be compared with libvips' resize.
var LanczosReduce = lanczosReduce

// OriginalPixels and Thumbnail are an upload's pixels as ConvertOriginal
// makes them and as libvips' thumbnail alone would.
var (
	OriginalPixels = originalPixels
	Thumbnail      = thumbnail
)
