// @difflens/chat: Chat templates, system-prompt conditions and token regions.
export {};
