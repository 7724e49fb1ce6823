package autocall

// AutoCallService places OMICall auto-call sessions.
type AutoCallService service

// OTPService places TEL4VN OTP voice calls.
type OTPService service

// TTSService manages TEL4VN text-to-speech templates and calls.
type TTSService service

// CDRService reads TEL4VN call detail reports.
type CDRService service
