package imaging

// SetBlob is setBlob, for the tests' originals.
var SetBlob = setBlob

// ReduceTo is reduceTo, for its bound.
var ReduceTo = reduceTo
