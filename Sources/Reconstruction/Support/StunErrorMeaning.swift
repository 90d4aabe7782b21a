/// What each STUN/TURN/ICE error code means for the person reading a capture.
public enum StunErrorMeaning {
    public static func explain(_ code: Int) -> String {
        switch code {
        case 300: return "Try Alternate: the server redirects the client to ALTERNATE-SERVER"
        case 400: return "Bad Request: the server could not parse the request"
        case 401: return "Unauthorized: credentials missing or wrong (first 401 is the normal REALM/NONCE challenge)"
        case 403: return "Forbidden: the server refuses this peer address or request (policy)"
        case 405: return "Mobility Forbidden"
        case 420: return "Unknown Attribute: a comprehension-required attribute was not understood"
        case 437: return "Allocation Mismatch: no allocation for this 5-tuple, or one already exists"
        case 438: return "Stale Nonce: retry with the new NONCE from this response"
        case 440: return "Address Family not Supported"
        case 441: return "Wrong Credentials: the request used credentials other than the allocation's"
        case 442: return "Unsupported Transport Protocol"
        case 443: return "Peer Address Family Mismatch"
        case 446: return "Connection Already Exists (RFC 6062)"
        case 447: return "Connection Timeout or Failure (RFC 6062)"
        case 486: return "Allocation Quota Reached: the user has too many allocations"
        case 487: return "Role Conflict: both ICE agents claimed the same role"
        case 500: return "Server Error"
        case 508: return "Insufficient Capacity: the server has no relay ports left"
        default: return "error \(code)"
        }
    }
}
