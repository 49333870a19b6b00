// polyfill.mjs - Promise.withResolvers for Node.js 20 (js-libp2p 3.x calls
// it; Node 22 has it). Load with `node --import ./polyfill.mjs ...`.
if (typeof Promise.withResolvers !== 'function') {
	Promise.withResolvers = function withResolvers () {
		let resolve, reject
		const promise = new this((res, rej) => { resolve = res; reject = rej })
		return { promise, resolve, reject }
	}
}
