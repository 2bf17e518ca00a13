package imaging

// SetBlob is setBlob, for the tests' originals.
var SetBlob = setBlob
